/**
 * The word filter's view of a text (spec section 9): NFKC, lower case, Hangul split into jamo,
 * and everything a writer can slip inside a word without changing how it reads removed
 * (spaces, punctuation, symbols, zero-width and other format characters, combining marks, the
 * Hangul fillers). Each unit of the result remembers which characters of the original it came
 * from, so a match can be masked in the text as written.
 *
 * Hangul goes to jamo because the same word can be typed as syllables (`시발`), as
 * compatibility jamo one by one (`ㅅㅣㅂㅏㄹ`) or as decomposed conjoining jamo: only at the jamo
 * level do they agree. NFKC reads every lone compatibility consonant as an initial, so a lone
 * consonant right after a lone vowel and before no vowel is made the final a keyboard would
 * make of it (`ㅂㅏㄹ` → `발`). Finals of syllables stay finals: folding them onto initials
 * would make `맛보기` contain `ㅅㅂ`.
 */

const S_BASE = 0xac00;
const S_END = 0xd7a3;
const L_BASE = 0x1100;
const V_BASE = 0x1161;
const T_BASE = 0x11a7;
const V_COUNT = 21;
const T_COUNT = 28;
const N_COUNT = V_COUNT * T_COUNT;

/** Initial consonants (U+1100..U+1112) as finals; 0 where Hangul has no such final. */
const INITIAL_AS_FINAL = [
  0x11a8, 0x11a9, 0x11ab, 0x11ae, 0, 0x11af, 0x11b7, 0x11b8, 0, 0x11ba, 0x11bb, 0x11bc, 0x11bd, 0, 0x11be, 0x11bf, 0x11c0, 0x11c1, 0x11c2,
];
const isInitial = (c: number) => c >= 0x1100 && c <= 0x1112;
const isVowel = (c: number) => c >= 0x1161 && c <= 0x1175;

/** What is dropped: invisible or decorative inside a word. The Hangul fillers (U+115F, U+1160,
 * U+3164, U+FFA0) are letters to Unicode but print nothing, so they are a favourite spacer. */
const DROPPED = /[\p{White_Space}\p{P}\p{S}\p{Cf}\p{Cc}\p{Mn}\p{Me}\u115f\u1160\u3164\uffa0]/u;

export interface Normalised {
  /** The normalised text. */
  text: string;
  /** For each UTF-16 unit of `text`, the index in the original of the character it came from. */
  from: Int32Array;
}

/** The normalised units of one code point (no cache: most input is ASCII or Hangul, which
 * take the arithmetic paths). */
function unitsOf(cp: number, ch: string): string {
  if (cp < 0x80) {
    if (cp >= 0x41 && cp <= 0x5a) return String.fromCharCode(cp + 32);
    if ((cp >= 0x61 && cp <= 0x7a) || (cp >= 0x30 && cp <= 0x39)) return ch;
    return '';
  }
  if (cp >= S_BASE && cp <= S_END) return syllable(cp);
  let out = '';
  for (const c of ch.normalize('NFKC').toLowerCase().normalize('NFD')) {
    const k = c.codePointAt(0)!;
    if (DROPPED.test(c)) continue;
    if (k >= S_BASE && k <= S_END) out += syllable(k);
    else out += c;
  }
  return out;
}

function syllable(cp: number): string {
  const s = cp - S_BASE;
  const l = String.fromCharCode(L_BASE + Math.floor(s / N_COUNT));
  const v = String.fromCharCode(V_BASE + Math.floor((s % N_COUNT) / T_COUNT));
  const t = s % T_COUNT;
  return t === 0 ? l + v : l + v + String.fromCharCode(T_BASE + t);
}

export function normalise(input: string): Normalised {
  const codes: number[] = [];
  const from: number[] = [];
  /** Units that are lone jamo (not out of a precomposed syllable). */
  const lone: boolean[] = [];
  for (let i = 0; i < input.length; ) {
    const cp = input.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    const fromSyllable = cp >= S_BASE && cp <= S_END;
    const units = unitsOf(cp, width === 1 ? input[i]! : input.slice(i, i + 2));
    for (let u = 0; u < units.length; u++) {
      codes.push(units.charCodeAt(u));
      from.push(i);
      lone.push(!fromSyllable);
    }
    i += width;
  }
  for (let i = 1; i < codes.length; i++) {
    const c = codes[i]!;
    if (!isInitial(c) || !lone[i - 1] || !isVowel(codes[i - 1]!) || isVowel(codes[i + 1] ?? 0)) continue;
    const final = INITIAL_AS_FINAL[c - 0x1100]!;
    if (final) codes[i] = final;
  }
  let text = '';
  for (let i = 0; i < codes.length; i += 4096) text += String.fromCharCode(...codes.slice(i, i + 4096));
  return { text, from: Int32Array.from(from) };
}
