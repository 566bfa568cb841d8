/**
 * Issue 10 point 9 over the wire: the text policy is applied to every field a client sends,
 * over real TLS with real socket.io clients.
 */
import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../src/protocol/index.js';
import { call, client, join, refusal, user } from '../helpers/client.js';
import { startServer } from '../helpers/server.js';

const P = 'prog-text';

describe('text policy over the wire', () => {
  it('refuses a room title made only of invisible characters with EC001, and cleans one that has text', async () => {
    const server = await startServer();
    const a = await join(server, P, user('titler'));
    for (const title of ['\u200B\u2060\uFEFF', '\u3164\u3164', '\u{E0068}\u{E0069}', 'a\u2028b']) {
      expect(await call(a, 'createRoom', { title, max: 3 }), JSON.stringify(title)).toMatchObject({ ok: false, code: 'EC001' });
    }
    expect(await call(a, 'createRoom', { title: '\u3164퀴즈\u200B 나잇\u061C', max: 3 })).toMatchObject({ ok: true, title: '퀴즈 나잇' });
  });

  it('refuses a chat message of only zero-width characters with EM002, and strips them from one with text', async () => {
    const server = await startServer();
    const a = await join(server, P, user('talker'));
    const b = await join(server, P, user('listener'));
    const made = await call<{ roomId: string }>(a, 'createRoom', { title: 'room', max: 3 });
    if (!made.ok) throw new Error(made.code);
    expect(await call(b, 'joinRoom', { roomId: made.roomId })).toMatchObject({ ok: true });
    for (const msg of ['\u200B\u200C\u200D\u2060\uFEFF', '\u3164', '\uFE0F']) {
      expect(await call(a, 'chat', { roomId: made.roomId, msg, type: 'N' }), JSON.stringify(msg)).toMatchObject({ ok: false, code: 'EM002' });
    }
    const got = b.events.next('chat', (m: ChatMessage) => m.msg.startsWith('hi'));
    expect(await call(a, 'chat', { roomId: made.roomId, msg: 'hi\uFFF9 there\u061C\u200B', type: 'N' })).toMatchObject({ ok: true });
    expect(((await got) as [ChatMessage])[0].msg).toBe('hi there');
  });

  it('refuses a dev userUID holding U+202E or U+200B with AUTH_INVALID', async () => {
    const server = await startServer();
    for (const userUID of ['admin\u202Exyz', 'ad\u200Bmin']) {
      const err = await refusal(client(server, P, { auth: { userUID, displayName: 'Spoof' } }));
      expect(err.data?.code, JSON.stringify(userUID)).toBe('AUTH_INVALID');
    }
  });

  it('refuses a displayName of only U+3164 (Hangul filler) with AUTH_INVALID; Korean names pass', async () => {
    const server = await startServer();
    const err = await refusal(client(server, P, { auth: { userUID: 'filler-user', displayName: '\u3164' } }));
    expect(err.data?.code).toBe('AUTH_INVALID');
    const ok = await join(server, P, { userUID: 'korean-user', displayName: '김철수' });
    expect(ok.connected).toBe(true);
  });
});
