/** `MODERATOR_TOKENS` and the other moderation settings: bad values stop the start, naming the
 * variable and the moderator, never the token. */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';

const TOKEN = 'a-moderator-token-of-24-chars';

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

describe('moderation configuration', () => {
  it('reads name:token pairs, with the defaults of the other settings', () => {
    const c = loadConfig({ ADMIN_TOKEN: 'admin', MODERATOR_TOKENS: ` mia:${TOKEN} , joon:${TOKEN}x ` });
    expect(c.moderators).toEqual([
      { name: 'mia', token: TOKEN },
      { name: 'joon', token: `${TOKEN}x` },
    ]);
    expect(c.reportHideThreshold).toBe(5);
    expect(c.duplicateWindowMs).toBe(10_000);
    expect(c.filterRefreshMs).toBe(500);
    expect(loadConfig({}).moderators).toEqual([]);
  });

  it.each([
    [`mia:short`, 'at least 24'],
    [`:${TOKEN}`, 'name:token'],
    [TOKEN, 'name:token'],
    [`mi a:${TOKEN}`, 'name:token'],
    [`mia:${TOKEN},mia:${TOKEN}x`, 'twice'],
    [`mia:${TOKEN},joon:${TOKEN}`, 'not unique'],
    [`mia:${TOKEN} with space`, 'at least 24'],
  ])('refuses %j', (value, why) => {
    const found = problems({ ADMIN_TOKEN: 'admin', MODERATOR_TOKENS: value });
    expect(found.join('\n')).toContain('MODERATOR_TOKENS');
    expect(found.join('\n')).toContain(why);
    // The token is a credential: it never appears in the message.
    for (const p of found) expect(p).not.toContain(TOKEN);
  });

  it('refuses a moderator token equal to ADMIN_TOKEN, and moderators without ADMIN_TOKEN', () => {
    expect(problems({ ADMIN_TOKEN: TOKEN, MODERATOR_TOKENS: `mia:${TOKEN}` }).join()).toContain('not unique');
    expect(problems({ MODERATOR_TOKENS: `mia:${TOKEN}` }).join()).toContain('needs ADMIN_TOKEN');
  });

  it.each([
    ['REPORT_HIDE_THRESHOLD', '0'],
    ['REPORT_HIDE_THRESHOLD', 'five'],
    ['DUPLICATE_WINDOW_MS', '-1'],
    ['FILTER_REFRESH_MS', '10'],
  ])('refuses %s=%s', (name, value) => {
    expect(problems({ [name]: value }).join()).toContain(name);
  });
});
