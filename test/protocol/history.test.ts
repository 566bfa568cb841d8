/**
 * Spec section 4.1: a room keeps its last HISTORY_SIZE chat messages on every server alike; a
 * newcomer gets them in the joinRoom ack, oldest first, and pages back with `history`. Run on one
 * server and on three (members on different servers than the authors).
 */
import { describe, expect, it } from 'vitest';
import type { AckResult, ChatMessage } from '../../src/protocol/index.js';
import { call, createOk, join, user } from '../helpers/client.js';
import { startTopology } from '../helpers/topology.js';

function ok<T extends object>(res: AckResult<T>): { ok: true } & T {
  if (!res.ok) throw new Error(`expected ok, got ${res.code} (${res.message})`);
  return res;
}

type Joined = Awaited<ReturnType<typeof join>>;

/** Each message sent by `author` and seen by `witness` (a member on another server), so it is
 * known to have been decided before the next step. */
async function say(author: Joined, witness: Joined, roomId: string, texts: string[]): Promise<ChatMessage[]> {
  const sent: ChatMessage[] = [];
  for (const msg of texts) {
    const seen = witness.events.next('chat', (m: ChatMessage) => m.msg === msg);
    ok(await call(author, 'chat', { roomId, msg, type: 'N' }));
    sent.push(await seen.then((args) => args[0] as ChatMessage));
  }
  return sent;
}

describe('room history', () => {
  it('a newcomer gets the last HISTORY_SIZE messages in its joinRoom ack, oldest first, from every server', async () => {
    const t = await startTopology({ HISTORY_SIZE: '5' });
    const p = 'history-join';
    const author = await join(t.server(0), p, { ...user('author'), photoURL: 'https://img.example/a.png' });
    const witness = await join(t.server(1), p, user('witness'));
    const roomId = await createOk(author, { title: '개표 방송', max: 10 });
    ok(await call(witness, 'joinRoom', { roomId }));
    const sent = await say(author, witness, roomId, ['하나', '둘', '셋', '넷', '다섯', '여섯', '일곱']);

    const newcomer = await join(t.server(2), p, user('newcomer'));
    const joined = ok(await call<{ roomId: string; history: ChatMessage[] }>(newcomer, 'joinRoom', { roomId }));
    expect(joined.roomId).toBe(roomId);
    expect(joined.history).toEqual(sent.slice(2));
    expect(joined.history[0]).toMatchObject({ msg: '셋', userUID: author.who.userUID, photoURL: 'https://img.example/a.png', type: 'N', roomId });

    // Joining the room one is in again answers the history too.
    expect(ok(await call<{ history: ChatMessage[] }>(newcomer, 'joinRoom', { roomId })).history).toEqual(sent.slice(2));
  });

  it('history pages back from a message id, oldest first; without before, the newest', async () => {
    const t = await startTopology({ HISTORY_SIZE: '8' });
    const p = 'history-page';
    const author = await join(t.server(0), p, user('author'));
    const reader = await join(t.server(1), p, user('reader'));
    const roomId = await createOk(author, { title: 'Pages', max: 10 });
    ok(await call(reader, 'joinRoom', { roomId }));
    const sent = await say(author, reader, roomId, Array.from({ length: 10 }, (_, i) => `m${i}`));

    const page = (payload: object) => call<{ messages: ChatMessage[] }>(reader, 'history', { roomId, ...payload }).then((r) => ok(r).messages);
    expect(await page({ limit: 3 })).toEqual(sent.slice(7));
    expect(await page({ before: sent[7]!.id, limit: 3 })).toEqual(sent.slice(4, 7));
    expect(await page({ before: sent[4]!.id, limit: 3 })).toEqual(sent.slice(2, 4));
    // Beyond the history's start: nothing more to page.
    expect(await page({ before: sent[2]!.id })).toEqual([]);
    // Without a limit, 20 (here all 8 kept).
    expect(await page({})).toEqual(sent.slice(2));
  });

  it('EM001 outside the room; bad payloads EV001; neither changes the history', async () => {
    const t = await startTopology();
    const p = 'history-bad';
    const author = await join(t.server(0), p, user('author'));
    const outsider = await join(t.server(1), p, user('outsider'));
    const roomId = await createOk(author, { title: 'Closed', max: 10 });
    ok(await call(author, 'chat', { roomId, msg: 'hello', type: 'N' }));

    const refused = await call(outsider, 'history', { roomId });
    expect(refused).toEqual({ ok: false, code: 'EM001', message: expect.any(String) });
    // A chat into a room one is not in is refused and leaves nothing in its history.
    expect(await call(outsider, 'chat', { roomId, msg: 'sneaky', type: 'N' })).toMatchObject({ ok: false, code: 'EM001' });
    for (const payload of [undefined, 'roomId', [roomId], { roomId: 'bad id!' }, { roomId, limit: 0 }, { roomId, limit: 51 }, { roomId, limit: 2.5 }, { roomId, before: 7 }, { roomId, before: 'not an id!' }]) {
      expect(await call(author, 'history', payload)).toEqual({ ok: false, code: 'EV001', message: expect.any(String) });
    }
    const messages = ok(await call<{ messages: ChatMessage[] }>(author, 'history', { roomId })).messages;
    expect(messages.map((m) => m.msg)).toEqual(['hello']);
  });

  it("HISTORY_SIZE=0 keeps none: the join and history answer empty", async () => {
    const t = await startTopology({ HISTORY_SIZE: '0' });
    const p = 'history-off';
    const author = await join(t.server(0), p, user('author'));
    const other = await join(t.server(1), p, user('other'));
    const roomId = await createOk(author, { title: 'Off', max: 10 });
    ok(await call(other, 'joinRoom', { roomId }));
    await say(author, other, roomId, ['not kept']);
    expect(ok(await call<{ history: ChatMessage[] }>(other, 'joinRoom', { roomId })).history).toEqual([]);
    expect(ok(await call<{ messages: ChatMessage[] }>(other, 'history', { roomId })).messages).toEqual([]);
  });

  it("a room's history goes with the room", async () => {
    const t = await startTopology();
    const p = 'history-gone';
    const author = await join(t.server(0), p, user('author'));
    const roomId = await createOk(author, { title: 'Short-lived', max: 10 });
    ok(await call(author, 'chat', { roomId, msg: 'soon gone', type: 'N' }));
    ok(await call(author, 'leaveRoom', { roomId }));
    // The room was deleted with its last member: joining it by id is EJ001, and a new room by
    // the same author starts with no history.
    expect(await call(author, 'joinRoom', { roomId })).toMatchObject({ ok: false, code: 'EJ001' });
    const again = await createOk(author, { title: 'Next', max: 10 });
    const peer = await join(t.server(1), p, user('peer'));
    expect(ok(await call<{ history: ChatMessage[] }>(peer, 'joinRoom', { roomId: again })).history).toEqual([]);
  });
});
