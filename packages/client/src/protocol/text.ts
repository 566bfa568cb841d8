// GENERATED from src/protocol/text.ts by scripts/sync-protocol.mjs: do not edit; edit the source and run npm run build.
/**
 * Text rules shared by the server and clients. Lengths are counted in code points, not UTF-16
 * units, so an emoji counts as one character, as a user would count it.
 *
 * One policy for every field: text is NFC-normalised, and characters that render as nothing or
 * change the layout of what follows (Unicode's default-ignorable code points, which include the
 * bidi controls, zero-width spaces, word joiner, BOM, Hangul fillers and tag characters, plus the
 * interlinear annotation marks U+FFF9-FFFB) are removed, so that what a user reads is what was
 * typed and two names that look alike are alike. Three such characters have a visible job and
 * are kept where they do it: ZWJ/ZWNJ between two visible characters (emoji sequences, Indic
 * and Persian words), a variation selector right after a visible character (text or emoji
 * presentation), and tag characters inside an emoji flag sequence (England, Scotland, Wales).
 * A name, title or message must then hold at least one visible character.
 */

// C0/C1 controls other than newline and tab: dropped from chat, refused in single-line fields.
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/gu;
const ANY_CONTROL = /\p{Cc}/u;
// Line and paragraph separators break a line as a newline does, so a single-line field refuses them.
const LINE_SEPARATOR = /[\p{Zl}\p{Zp}]/u;
const LINE_SEPARATORS = /[\p{Zl}\p{Zp}]/gu;
const INVISIBLE = /[\p{Default_Ignorable_Code_Point}\u{FFF9}-\u{FFFB}]/u;
const JOINER = /^[\u200C\u200D]$/u;
const SELECTOR = /^[\u180B-\u180D\u180F\uFE00-\uFE0F\u{E0100}-\u{E01EF}]$/u;
const TAG = /^[\u{E0020}-\u{E007E}]$/u;
const TAG_BASE = '\u{1F3F4}';
const TAG_END = '\u{E007F}';
const GRAPHIC = /[\p{L}\p{M}\p{N}\p{S}\p{P}]/u;
// Letters, numbers, symbols, punctuation; the Braille blank is a symbol that draws nothing.
const VISIBLE = /[\p{L}\p{N}\p{S}\p{P}]/u;
const BLANK_SYMBOLS = /\u2800/gu;
// An identifier is compared byte for byte: anything invisible in it would make two ids look alike.
const ID_FORBIDDEN = /[\s\p{Cc}\p{Cf}\p{Co}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]/u;

export function codePointLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

function graphic(c: string | undefined): boolean {
  return c !== undefined && GRAPHIC.test(c) && !INVISIBLE.test(c);
}

/** Removes the characters of the policy above, keeping joiners, selectors and flag tags where they
 * belong. Each decision looks at the last character kept, so a run of joiners keeps one at most. */
export function stripInvisible(s: string): string {
  const cps = [...s];
  let out = '';
  let prev: string | undefined;
  for (let i = 0; i < cps.length; i++) {
    const c = cps[i]!;
    if (c === TAG_BASE) {
      let j = i + 1;
      while (j < cps.length && TAG.test(cps[j]!)) j++;
      if (j > i + 1 && cps[j] === TAG_END) {
        out += cps.slice(i, j + 1).join('');
        prev = c;
        i = j;
        continue;
      }
    }
    if (!INVISIBLE.test(c)) {
      out += c;
      prev = c;
      continue;
    }
    const keep =
      (SELECTOR.test(c) && graphic(prev)) ||
      (JOINER.test(c) && (graphic(prev) || (prev !== undefined && SELECTOR.test(prev))) && graphic(cps[i + 1]));
    if (keep) {
      out += c;
      prev = c;
    }
  }
  return out;
}

/** True when `s` shows something: a letter, number, symbol or punctuation that is not invisible. */
export function hasVisible(s: string): boolean {
  return VISIBLE.test(stripInvisible(s).replace(BLANK_SYMBOLS, ''));
}

/** A single-line field (title, display name): normalised, invisible characters removed, trimmed
 * (whitespace at the ends, tabs and newlines included, goes); `null` if controls or line
 * separators remain inside, or nothing visible does. */
export function cleanLine(s: string): string | null {
  const t = stripInvisible(s.normalize('NFC')).trim();
  if (ANY_CONTROL.test(t) || LINE_SEPARATOR.test(t)) return null;
  return hasVisible(t) ? t : null;
}

/** A chat message: controls other than newline and tab are dropped rather than refused, since
 * pasted text often carries them; line separators become newlines; invisible characters are
 * dropped so text shows as sent. `''` when nothing visible is left. */
export function cleanMessage(s: string): string {
  const t = stripInvisible(s.normalize('NFC').replace(LINE_SEPARATORS, '\n').replace(CONTROL, '')).trim();
  return hasVisible(t) ? t : '';
}

/**
 * A name from a trusted source (a token's `name` claim) made fit for a single-line field rather
 * than refused: controls and line breaks become spaces, runs of spaces collapse, and it is cut
 * to `max` characters. `null` if nothing visible is left.
 */
export function tidyLine(s: string, max: number): string | null {
  const spaced = s.normalize('NFC').replace(/[\p{Cc}\p{Zl}\p{Zp}]/gu, ' ');
  let t = stripInvisible(spaced).replace(/\s+/gu, ' ').trim();
  if (codePointLength(t) > max) t = stripInvisible([...t].slice(0, max).join('')).trim();
  return hasVisible(t) ? t : null;
}

/** An identifier (userUID): no whitespace, controls, format or invisible characters at all. */
export function isCleanId(s: string): boolean {
  return !ID_FORBIDDEN.test(s);
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const LONE_SURROGATE = /\p{Cs}/u;

/** A string with half of a UTF-16 surrogate pair is not text: it cannot be encoded as UTF-8,
 * and JSON codecs (Redis's cjson among them) refuse it. */
export function isWellFormed(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}

/**
 * True when a decoded payload carries keys that could reach an object's prototype. JSON.parse
 * makes `__proto__` an own property, and a later spread or merge would act on it, so such a
 * payload is refused outright instead of silently stripped.
 */
export function hasForbiddenKeys(value: unknown, depth = 0): boolean {
  if (depth > 8 || value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some((v) => hasForbiddenKeys(v, depth + 1));
  for (const key of Object.keys(value)) {
    if (FORBIDDEN_KEYS.has(key)) return true;
    if (hasForbiddenKeys((value as Record<string, unknown>)[key], depth + 1)) return true;
  }
  return false;
}

/** True when any string in the payload (keys included) holds a lone surrogate. */
export function hasIllFormedText(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return !isWellFormed(value);
  if (depth > 8 || value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some((v) => hasIllFormedText(v, depth + 1));
  for (const [key, v] of Object.entries(value)) {
    if (!isWellFormed(key) || hasIllFormedText(v, depth + 1)) return true;
  }
  return false;
}
