/**
 * The schedule's rules on a clock the test holds (`now` passed in): what is on air, who may
 * connect in open and strict mode, `titleBroad`; and when a ban applies.
 */
import { describe, expect, it } from 'vitest';
import { banApplies, banScope, EVERYWHERE, type Ban } from '../../src/domain/bans.js';
import { isOnAir, Schedule, titleBroadOf, type Programme } from '../../src/domain/schedule.js';

const T = 1_795_000_000_000;

function programme(over: Partial<Programme> = {}): Programme {
  return { scheduleUID: 'news', title: 'News', broadcaster: 'KBS', startAt: T, endAt: T + 60_000, ...over };
}

describe('isOnAir', () => {
  it('is on air from startAt (inclusive) to endAt (exclusive)', () => {
    const p = programme();
    expect(isOnAir(p, T - 1)).toBe(false);
    expect(isOnAir(p, T)).toBe(true);
    expect(isOnAir(p, T + 30_000)).toBe(true);
    expect(isOnAir(p, T + 59_999)).toBe(true);
    expect(isOnAir(p, T + 60_000)).toBe(false);
    expect(isOnAir(p, T + 60_001)).toBe(false);
  });

  it('a one-millisecond programme is on air for exactly that millisecond', () => {
    const p = programme({ endAt: T + 1 });
    expect([T - 1, T, T + 1].map((t) => isOnAir(p, t))).toEqual([false, true, false]);
  });
});

describe('titleBroadOf', () => {
  it("is the seed's title_broadcaster, kept as written", () => {
    expect(titleBroadOf(programme())).toBe('News_KBS');
    expect(titleBroadOf(programme({ title: 'Late_Show 🙂', broadcaster: 'MBC 2' }))).toBe('Late_Show 🙂_MBC 2');
  });
});

describe('Schedule', () => {
  it('open mode: an unknown programme is admitted at any time; a known one only while on air', () => {
    const s = new Schedule('open');
    s.put(programme());
    expect(s.admits('other', T - 1_000_000)).toBe(true);
    expect(s.admits('other', T)).toBe(true);
    expect(s.admits('news', T - 1)).toBe(false);
    expect(s.admits('news', T)).toBe(true);
    expect(s.admits('news', T + 59_999)).toBe(true);
    expect(s.admits('news', T + 60_000)).toBe(false);
  });

  it('strict mode: only programmes on air are admitted; an unknown one never', () => {
    const s = new Schedule('strict');
    s.put(programme());
    expect(s.admits('other', T)).toBe(false);
    expect(s.admits('news', T - 1)).toBe(false);
    expect(s.admits('news', T)).toBe(true);
    expect(s.admits('news', T + 60_000)).toBe(false);
    expect(new Schedule('strict').admits('news', T)).toBe(false);
  });

  it('titleBroad for a known programme, undefined for an unknown one', () => {
    const s = new Schedule('open');
    s.put(programme({ scheduleUID: 'quiz', title: 'Quiz', broadcaster: 'SBS' }));
    expect(s.titleBroad('quiz')).toBe('Quiz_SBS');
    expect(s.titleBroad('news')).toBeUndefined();
  });

  it('put replaces a programme by scheduleUID; remove forgets it (then open mode admits it again)', () => {
    const s = new Schedule('open');
    s.put(programme());
    s.put(programme({ title: 'Morning news', startAt: T + 100_000, endAt: T + 200_000 }));
    expect(s.list()).toHaveLength(1);
    expect(s.get('news')?.title).toBe('Morning news');
    expect(s.admits('news', T)).toBe(false);
    expect(s.admits('news', T + 100_000)).toBe(true);
    expect(s.titleBroad('news')).toBe('Morning news_KBS');
    expect(s.remove('news')).toBe(true);
    expect(s.remove('news')).toBe(false);
    expect(s.get('news')).toBeUndefined();
    expect(s.admits('news', T)).toBe(true);
  });

  it('replace swaps the whole schedule; list is earliest first, then by scheduleUID', () => {
    const s = new Schedule('strict');
    s.put(programme({ scheduleUID: 'gone' }));
    const late = programme({ scheduleUID: 'late', startAt: T + 500, endAt: T + 900 });
    const b = programme({ scheduleUID: 'b', startAt: T + 100, endAt: T + 200 });
    const a = programme({ scheduleUID: 'a', startAt: T + 100, endAt: T + 300 });
    const early = programme({ scheduleUID: 'z-early', startAt: T, endAt: T + 50 });
    s.replace([late, b, a, early]);
    expect(s.list()).toEqual([early, a, b, late]);
    expect(s.get('gone')).toBeUndefined();
    expect(s.admits('gone', T)).toBe(false);
  });

  it("keeps copies of what it is given: changing the caller's objects afterwards changes nothing", () => {
    const s = new Schedule('open');
    const given = programme();
    s.put(given);
    given.endAt = T + 1;
    expect(s.admits('news', T + 30_000)).toBe(true);
    const replaced = [programme({ scheduleUID: 'x' })];
    s.replace(replaced);
    replaced[0]!.title = 'changed';
    expect(s.titleBroad('x')).toBe('News_KBS');
  });
});

describe('bans', () => {
  const ban = (over: Partial<Ban> = {}): Ban => ({ userUID: 'u1', createdAt: T, ...over });

  it('a ban without scheduleUID applies to every programme', () => {
    expect(banApplies(ban(), 'news', T)).toBe(true);
    expect(banApplies(ban(), 'quiz', T)).toBe(true);
  });

  it('a programme ban applies to that programme only', () => {
    const b = ban({ scheduleUID: 'news' });
    expect(banApplies(b, 'news', T)).toBe(true);
    expect(banApplies(b, 'quiz', T)).toBe(false);
  });

  it('applies before `until` and no longer from `until` on; without `until` it never lifts', () => {
    const b = ban({ scheduleUID: 'news', until: T + 1000 });
    expect(banApplies(b, 'news', T + 999)).toBe(true);
    expect(banApplies(b, 'news', T + 1000)).toBe(false);
    expect(banApplies(b, 'news', T + 5000)).toBe(false);
    expect(banApplies(ban({ until: T }), 'quiz', T)).toBe(false);
    expect(banApplies(ban(), 'quiz', Number.MAX_SAFE_INTEGER)).toBe(true);
  });

  it('banScope stores a programme by its id and everywhere as a marker no scheduleUID can be', () => {
    expect(banScope('news')).toBe('news');
    expect(banScope(undefined)).toBe(EVERYWHERE);
    expect(EVERYWHERE).not.toMatch(/^[A-Za-z0-9_-]{1,64}$/);
  });
});
