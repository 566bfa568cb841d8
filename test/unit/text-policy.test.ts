/**
 * Issue 10 point 9: one text policy for every field. Each row is an input and what each field
 * makes of it: the cleaned text, or `null` for a refusal.
 */
import { describe, expect, it } from 'vitest';
import { createSchemas, identitySchema, parsePayload } from '../../src/protocol/index.js';
import { cleanLine, cleanMessage, hasVisible, stripInvisible, tidyLine } from '../../src/protocol/text.js';

const ZWJ = '\u200D';
const ZWNJ = '\u200C';
const VS16 = '\uFE0F';
const FAMILY = `\u{1F468}${ZWJ}\u{1F469}${ZWJ}\u{1F467}`;
const HEART_ON_FIRE = `\u2764${VS16}${ZWJ}\u{1F525}`;
const ENGLAND = '\u{1F3F4}\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}';
const TAGS_HELLO = [...'hello'].map((c) => String.fromCodePoint(0xe0000 + c.codePointAt(0)!)).join('');
const PERSIAN = `\u0645\u06CC${ZWNJ}\u062E\u0648\u0627\u0647\u0645`;

const schemas = createSchemas();
const title = (t: string) => {
  const r = parsePayload(schemas.createRoom, { title: t, max: 3 });
  return r.ok ? r.value.title : null;
};
const chat = (m: string) => {
  const r = parsePayload(schemas.chat, { roomId: 'r1', type: 'N', msg: m });
  return r.ok ? r.value.msg : null;
};
const displayName = (n: string) => {
  const r = parsePayload(identitySchema, { userUID: 'u1', displayName: n });
  return r.ok ? r.value.displayName : null;
};
const userUID = (u: string) => {
  const r = parsePayload(identitySchema, { userUID: u, displayName: 'x' });
  return r.ok ? r.value.userUID : null;
};

// [what, input, title/displayName (single line), chat]
const rows: [string, string, string | null, string | null][] = [
  ['plain text', '  Quiz night  ', 'Quiz night', 'Quiz night'],
  ['NFC', 'Cafe\u0301', 'Café', 'Café'],
  ['Korean syllables', '안녕하세요 여러분', '안녕하세요 여러분', '안녕하세요 여러분'],
  ['Korean compatibility jamo', 'ㅋㅋㅋ ㅠㅠ', 'ㅋㅋㅋ ㅠㅠ', 'ㅋㅋㅋ ㅠㅠ'],
  ['conjoining jamo compose (NFC)', '\u1112\u1161\u11AB', '한', '한'],
  ['only ZWSP', '\u200B\u200B', null, ''],
  ['only word joiner', '\u2060', null, ''],
  ['only BOM', '\uFEFF', null, ''],
  ['only Hangul filler U+3164', '\u3164\u3164', null, ''],
  ['only halfwidth Hangul filler U+FFA0', '\uFFA0', null, ''],
  ['only jamo fillers U+115F U+1160', '\u115F\u1160', null, ''],
  ['only tag characters', TAGS_HELLO, null, ''],
  ['tag characters hidden after text', `hi${TAGS_HELLO}`, 'hi', 'hi'],
  ['zero-width between letters', 'a\u200Bd\u2060m\uFEFFin', 'admin', 'admin'],
  ['Hangul filler padding a name', '\u3164admin\u3164', 'admin', 'admin'],
  ['only ZWJ and ZWNJ', `${ZWJ}${ZWNJ}${ZWJ}`, null, ''],
  ['only variation selectors', '\uFE0F\uFE0E', null, ''],
  ['only a combining mark', '\u0301', null, ''],
  ['only Braille blank', '\u2800\u2800', null, ''],
  ['only soft hyphen', '\u00AD', null, ''],
  ['bidi override', '\u202Eevil\u202C', 'evil', 'evil'],
  ['bidi isolates and marks', 'a\u2066b\u2069\u200Ec\u200F', 'abc', 'abc'],
  ['Arabic letter mark U+061C', 'a\u061Cb', 'ab', 'ab'],
  ['interlinear annotation U+FFF9-FFFB', 'a\uFFF9b\uFFFAc\uFFFB', 'abc', 'abc'],
  ['line separator U+2028', 'a\u2028b', null, 'a\nb'],
  ['paragraph separator U+2029', 'a\u2029b', null, 'a\nb'],
  ['newline', 'a\nb', null, 'a\nb'],
  ['tabs and newlines at the ends are trimmed', ' \tLate show \n', 'Late show', 'Late show'],
  ['line separator at the end is trimmed', 'ab\u2028', 'ab', 'ab'],
  ['C0 control', 'a\u0007b', null, 'ab'],
  ['emoji ZWJ sequence kept', `fam ${FAMILY}`, `fam ${FAMILY}`, `fam ${FAMILY}`],
  ['emoji with VS16 and ZWJ kept', HEART_ON_FIRE, HEART_ON_FIRE, HEART_ON_FIRE],
  ['emoji flag tag sequence kept', ENGLAND, ENGLAND, ENGLAND],
  ['ZWNJ inside a Persian word kept', PERSIAN, PERSIAN, PERSIAN],
  ['ZWJ at the edges dropped', `${ZWJ}ab${ZWJ}`, 'ab', 'ab'],
  ['ZWJ next to a space dropped', `a ${ZWJ}b`, 'a b', 'a b'],
  ['VS after a space dropped', `a \uFE0Fb`, 'a b', 'a b'],
];

describe('text policy table', () => {
  it.each(rows)('%s', (_what, input, line, message) => {
    expect(cleanLine(input)).toBe(line);
    expect(title(input)).toBe(line);
    expect(displayName(input)).toBe(line);
    expect(cleanMessage(input)).toBe(message);
    expect(chat(input)).toBe(message === '' ? null : message);
  });
});

describe('userUID', () => {
  const refused: [string, string][] = [
    ['RLO', 'abc\u202Edef'],
    ['ZWSP', 'abc\u200Bdef'],
    ['BOM', '\uFEFFabc'],
    ['word joiner', 'ab\u2060c'],
    ['Hangul filler', '\u3164'],
    ['ZWJ', `a${ZWJ}b`],
    ['Arabic letter mark', 'a\u061Cb'],
    ['interlinear annotation', 'a\uFFF9b'],
    ['line separator', 'a\u2028b'],
    ['tag character', `a${TAGS_HELLO}`],
    ['private use', 'a\uE000b'],
    ['space', 'a b'],
    ['tab', 'a\tb'],
    ['empty', ''],
    ['too long', 'x'.repeat(129)],
  ];
  it.each(refused)('refuses %s', (_what, uid) => expect(userUID(uid)).toBeNull());

  it.each([['ascii', 'uid-alice_01'], ['Korean', '사용자-1'], ['emoji', '\u{1F600}x'], ['128 code points', '가'.repeat(128)]])(
    'accepts %s',
    (_what, uid) => expect(userUID(uid)).toBe(uid),
  );
});

describe('tidyLine (a trusted name claim)', () => {
  it.each([
    ['Ada\tLovelace', 'Ada Lovelace'],
    ['  Ada \n\n Lovelace \r\n', 'Ada Lovelace'],
    ['Ada\u2028Lovelace', 'Ada Lovelace'],
    ['A\u200Bda', 'Ada'],
    ['x'.repeat(40), 'x'.repeat(30)],
    [`${'y'.repeat(29)}${ZWJ}\u{1F525}`, 'y'.repeat(29)],
    ['\t\u200B\n', null],
    ['\u3164', null],
  ] as [string, string | null][])('%j → %j', (input, out) => expect(tidyLine(input, 30)).toBe(out));
});

describe('helpers', () => {
  it('stripInvisible keeps a ZWJ only between visible characters', () => {
    expect(stripInvisible(`a${ZWJ}b`)).toBe(`a${ZWJ}b`);
    // Judged on what is kept: the ZWSP goes, and the ZWJ then stands between two letters.
    expect(stripInvisible(`a\u200B${ZWJ}b`)).toBe(`a${ZWJ}b`);
    expect(stripInvisible(`a${ZWJ}${ZWJ}b`)).toBe(`a${ZWJ}b`);
    expect(stripInvisible(`a${ZWJ}\u3164b`)).toBe('ab');
  });
  it('hasVisible wants a letter, number, symbol or punctuation', () => {
    expect(hasVisible('.')).toBe(true);
    expect(hasVisible('7')).toBe(true);
    expect(hasVisible('\u{1F600}')).toBe(true);
    expect(hasVisible(' \u3000\u00A0')).toBe(false);
    expect(hasVisible('\u3164\u2800')).toBe(false);
  });
});

describe('the SDK guesses names as the server makes them', () => {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const unsigned = (claims: object) => `${b64({ alg: 'HS256' })}.${b64(claims)}.sig`;

  it('tidies a token name claim and cleans a typed displayName', async () => {
    const { expectedIdentity } = await import('@onair/client');
    expect(expectedIdentity({ token: unsigned({ sub: 's', name: 'Ada\tLovelace\u200B' }) })?.displayName).toBe('Ada Lovelace');
    expect(expectedIdentity({ identity: { userUID: 'u', displayName: '\u3164Kim\u200B ' } })?.displayName).toBe('Kim');
  });
});
