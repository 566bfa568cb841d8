/**
 * Text rules shared by the server and clients. Lengths are counted in code points, not UTF-16
 * units, so an emoji counts as one character, as a user would count it.
 */

// C0/C1 controls (newline and tab handled separately) and the bidi overrides that let a
// message render as something other than what was typed.
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/gu;
const BIDI = /[\u202A-\u202E\u2066-\u2069\u200E\u200F]/gu;
const NEWLINE_OR_TAB = /[\n\t]/u;
const ANY_CONTROL = /[\p{Cc}]/u;

export function codePointLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** A single-line field (title, display name): normalised and trimmed; `null` if it holds controls. */
export function cleanLine(s: string): string | null {
  const t = s.normalize('NFC').replace(BIDI, '').trim();
  return ANY_CONTROL.test(t) ? null : t;
}

/** A chat message: controls other than newline and tab are dropped rather than refused, since
 * pasted text often carries them; bidi overrides are dropped so text shows as sent. */
export function cleanMessage(s: string): string {
  return s.normalize('NFC').replace(CONTROL, '').replace(BIDI, '').trim();
}

export function hasLineBreak(s: string): boolean {
  return NEWLINE_OR_TAB.test(s);
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
