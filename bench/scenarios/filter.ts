/**
 * The word filter's cost (spec section 9: "a message against a list of 5,000 entries costs well
 * under 100 µs"): one automaton over the normalised text, measured in this process, since it is
 * pure CPU on the server's event loop. Chat-like messages in Korean and English of 40-300
 * characters, some with disguised entries in them, against 5,000 Korean and Latin entries.
 */
import type { BenchEnv } from '../lib/env.js';
import { WordFilter, type FilterEntry } from '../../src/domain/moderation/word-filter.js';

export interface FilterResult {
  entries: number;
  messages: number;
  meanChars: number;
  buildMs: number;
  meanUs: number;
  p99Us: number;
  maxLengthMeanUs: number;
}

const SYLLABLES = '가나다라마바사아자차카타파하개새병신지랄미친놈씨발';

function entries(n: number): FilterEntry[] {
  const out: FilterEntry[] = [];
  for (let i = 0; i < n; i++) {
    const korean = i % 2 === 0;
    const text = korean
      ? Array.from({ length: 2 + (i % 3) }, (_, k) => SYLLABLES[(i * 7 + k * 13) % SYLLABLES.length]).join('') + (i % 97)
      : `bad${i.toString(36)}word`;
    out.push({ text, action: i % 3 === 0 ? 'mask' : 'block', ...(i % 10 === 0 ? { scheduleUID: 'final' } : {}) });
  }
  return out;
}

function messages(n: number, list: FilterEntry[]): string[] {
  const base = ['오늘 경기 정말 재밌네요 ㅋㅋㅋ', 'What a goal by number 10!', '개표 방송 보는 중인데 누가 이길까요', 'the referee is blind tonight', '진짜 대박 사건이다'];
  return Array.from({ length: n }, (_, i) => {
    let m = '';
    while (m.length < 40 + ((i * 37) % 260)) m += `${base[(i + m.length) % base.length]} `;
    // One message in ten carries an entry, spaced out as an evader would.
    if (i % 10 === 0) m += list[i % list.length]!.text.split('').join(' ');
    return m.slice(0, 300);
  });
}

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export async function filter(bench: BenchEnv, log: (s: string) => void): Promise<FilterResult> {
  const list = entries(5000);
  const t0 = performance.now();
  const f = new WordFilter(list);
  const buildMs = performance.now() - t0;
  const msgs = messages(bench.quick ? 2000 : 20_000, list);
  for (const m of msgs.slice(0, 1000)) f.apply('final', m);
  const times: number[] = [];
  for (const m of msgs) {
    const s = performance.now();
    f.apply('final', m);
    times.push((performance.now() - s) * 1000);
  }
  const longest = msgs.filter((m) => m.length >= 290);
  const s = performance.now();
  for (const m of longest) f.apply('final', m);
  const maxLengthMeanUs = ((performance.now() - s) * 1000) / Math.max(1, longest.length);
  const sorted = [...times].sort((a, b) => a - b);
  const result: FilterResult = {
    entries: list.length,
    messages: msgs.length,
    meanChars: Math.round(msgs.reduce((n, m) => n + m.length, 0) / msgs.length),
    buildMs: Math.round(buildMs),
    meanUs: Number((times.reduce((a, b) => a + b, 0) / times.length).toFixed(1)),
    p99Us: Number(percentile(sorted, 0.99).toFixed(1)),
    maxLengthMeanUs: Number(maxLengthMeanUs.toFixed(1)),
  };
  log(`  ${result.entries} entries (built in ${result.buildMs} ms); ${result.messages} messages of ${result.meanChars} characters on average: mean ${result.meanUs} µs, p99 ${result.p99Us} µs; 290-300 characters: ${result.maxLengthMeanUs} µs`);
  return result;
}
