/**
 * The SDK and moderation (spec 9): refusals carry `until` (EM004) and `retryAfterMs` (EM005) as
 * typed fields, a removed message leaves `state.messages`, the MUTED notice is `lastSystem`,
 * and `report` resolves with whether it was new.
 */
import { describe, expect, it } from 'vitest';
import { OnAirError, waitFor } from '@onair/client';
import { ADMIN_TOKEN, adminCall } from '../helpers/admin.js';
import { rejection, sdk } from '../helpers/sdk.js';
import { startServer } from '../helpers/server.js';

const P = 'prog-sdk-mod';

describe('SDK: moderation', () => {
  it('typed refusals, deleteChat, MUTED and report', async () => {
    const server = await startServer({ ADMIN_TOKEN });
    const a = await sdk(server, P);
    const b = await sdk(server, P);
    const { roomId } = await a.createRoom({ title: 'mod', max: 5 });
    await b.joinRoom(roomId);

    const { id } = await a.chat('hello there');
    await waitFor(b.state, (s) => s.messages.some((m) => m.id === id));
    expect(await b.report({ id }, 'spam')).toBe(true);
    expect(await b.report({ id }, 'spam again')).toBe(false);
    expect((await adminCall(server, 'DELETE', `/admin/programs/${P}/messages/${id}`)).status).toBe(204);
    await waitFor(b.state, (s) => !s.messages.some((m) => m.id === id));

    await adminCall(server, 'PUT', `/admin/programs/${P}/slow-mode`, { seconds: 30, roomId });
    await waitFor(a.state, (s) => s.lastSystem?.code === 'SLOW_MODE');
    // a posted 'hello there' a moment ago: the window covers it.
    const slow = (await rejection(a.chat('two'))) as OnAirError;
    expect(slow).toBeInstanceOf(OnAirError);
    expect(slow.code).toBe('EM005');
    expect(slow.retryAfterMs).toBeGreaterThan(29_000);

    const res = await adminCall(server, 'PUT', `/admin/programs/${P}/mutes/${encodeURIComponent(b.state.me!.userUID)}`, { seconds: 60 });
    const until = res.body.until as number;
    await waitFor(b.state, (s) => s.lastSystem?.code === 'MUTED' && s.lastSystem.until === until);
    const muted = (await rejection(b.chat('hi'))) as OnAirError;
    expect(muted.code).toBe('EM004');
    expect(muted.until).toBe(until);
    expect(muted.retryAfterMs).toBeUndefined();
  });
});
