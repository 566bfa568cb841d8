import { describe, expect, it } from 'vitest';
import { AhoCorasick } from '../../src/domain/moderation/aho-corasick.js';
import { normalise } from '../../src/domain/moderation/normalise.js';
import { WordFilter, type FilterEntry } from '../../src/domain/moderation/word-filter.js';

const entries: FilterEntry[] = [
  { text: '시발', action: 'block' },
  { text: '씨발', action: 'block' },
  { text: '병신', action: 'block' },
  { text: '개새끼', action: 'block' },
  { text: '지랄', action: 'block' },
  // An initial-consonant abbreviation is caught only because it is listed.
  { text: 'ㅅㅂ', action: 'block' },
  { text: 'fuck', action: 'block' },
  { text: 'bitch', action: 'block' },
  { text: 'dickhead', action: 'block' },
  { text: 'spam-casino.example', action: 'block' },
  { text: 'idiot', action: 'mask' },
  { text: '바보', action: 'mask' },
  { text: 'spoiler', action: 'block', scheduleUID: 'final' },
];
const filter = new WordFilter(entries);

const ZW = '\u200b';
const caught: string[] = [
  '시발',
  '시 발',
  '시.발',
  '시_발!',
  `시${ZW}발`,
  '시\u2060발',
  'ㅅㅣㅂㅏㄹ',
  'ㅅ ㅣ ㅂ ㅏ ㄹ',
  '\u1109\u1175\u1107\u1161\u11af',
  '씨~발 진짜',
  '병 신 같은',
  '병\u3164신',
  '개/새/끼',
  '지\uffa0랄하네',
  'ㅅㅂ',
  'ㅅ.ㅂ 뭐야',
  '아ㅅㅂ',
  'fuck',
  'FUCK',
  'F u C k',
  'ｆｕｃｋ',
  'Ｆ.Ｕ.Ｃ.Ｋ',
  'f\u200bu\u200dck',
  'fück',
  'f-u-c-k-i-n-g',
  'b.i.t.c.h',
  'BiTcH please',
  'd i c k h e a d',
  'visit spam casino . example now',
  'ⓕⓤⓒⓚ',
  'f\u00adu\u00adc\u00adk',
];
const innocent: string[] = [
  '안녕하세요',
  '오늘 경기 정말 재밌네요',
  '시바견 너무 귀여워',
  '맛보기 영상 언제 나와요',
  '갓바위 다녀왔어요',
  '시작합니다',
  '발표 잘 봤어요',
  '신병 훈련소',
  '새끼손가락 다쳤어',
  '개나리 피었다',
  '지금 몇 시야?',
  '병원 다녀올게요',
  'ㅋㅋㅋㅋ',
  'ㅎㅎ 좋아요',
  '감사합니다!!',
  'Hello everyone',
  'What a goal!',
  'Great match tonight',
  'the bitcoin price',
  'she is a witch in the show',
  'duck and cover',
  'fun kick-off',
  'I dicked around',
  'pitch invasion',
  'spam casino',
  '10:0 what a score',
  'Ｈｅｌｌｏ',
  'café au lait',
  '😀👍',
  'the final spoiler', // only refused in the programme 'final'
];

describe('word filter', () => {
  it('has the tables the issue asks for', () => {
    expect(caught.length).toBeGreaterThanOrEqual(30);
    expect(innocent.length).toBeGreaterThanOrEqual(30);
  });

  it.each(caught)('catches %j', (text) => {
    const v = filter.apply('p1', text);
    expect(v.blocked).toBe(true);
  });

  it.each(innocent)('lets %j through unchanged', (text) => {
    expect(filter.apply('p1', text)).toEqual({ blocked: false, text, masked: false });
  });

  it('masks the match as written, its insides included, with one * a character', () => {
    expect(filter.apply('p1', 'you i.d.i.o.t!')).toEqual({ blocked: false, text: 'you *********!', masked: true });
    expect(filter.apply('p1', '이 바 보 야')).toEqual({ blocked: false, text: '이 *** 야', masked: true });
    expect(filter.apply('p1', 'IDIOT and idiot')).toEqual({ blocked: false, text: '***** and *****', masked: true });
  });

  it('applies a programme entry to that programme only', () => {
    expect(filter.apply('final', 'the final spoiler').blocked).toBe(true);
    expect(filter.apply('other', 'the final spoiler').blocked).toBe(false);
  });

  it('block wins over mask in the same text', () => {
    expect(filter.apply('p1', 'idiot fuck')).toEqual({ blocked: true });
  });

  it('keeps the source of every normalised unit', () => {
    const n = normalise('A b');
    expect(n.text).toBe('ab');
    expect([...n.from]).toEqual([0, 2]);
  });

  it('finds overlapping patterns in one pass', () => {
    const ac = new AhoCorasick<string>([['he', 'he'], ['she', 'she'], ['hers', 'hers'], ['his', 'his']]);
    expect(ac.search('ushers').map((h) => [h.value, h.start, h.end])).toEqual([
      ['she', 1, 4],
      ['he', 2, 4],
      ['hers', 2, 6],
    ]);
  });

  // Its speed is the bench's to measure (`npm run bench -- --only filter`), not a timed unit test.
  it('against 5,200 entries still blocks, masks and passes exactly what it should', () => {
    const big: FilterEntry[] = [];
    for (let i = 0; i < 5000; i++) big.push({ text: `금칙${i.toString(36)}어${i % 7 === 0 ? 'x' : ''}`, action: i % 2 ? 'block' : 'mask' });
    for (let i = 0; i < 200; i++) big.push({ text: `badword${i}`, action: 'block' });
    const f = new WordFilter(big);
    expect(f.apply('p', '오늘 경기 정말 재밌네요 what a goal, 진짜 대박 ㅋㅋㅋ')).toMatchObject({ blocked: false, text: '오늘 경기 정말 재밌네요 what a goal, 진짜 대박 ㅋㅋㅋ' });
    expect(f.apply('p', 'you b a d w o r d 1 9 9').blocked).toBe(true);
    // 금칙2어 is entry 2, a mask entry (even index).
    const masked = f.apply('p', '그건 금칙2어 입니다');
    expect(masked.blocked).toBe(false);
    expect(masked.blocked === false && masked.text).not.toContain('금칙2어');
  });
});
