/**
 * The baseline: the least a chat fan-out over TLS websockets can do on this machine. One room
 * (every connected client), no rules, no acks, no framing protocol beyond JSON. For each message
 * it does what onair does in the same case, minimally: parse the client's JSON, build the chat
 * object the protocol broadcasts (same fields), serialise it once, send it to every other member.
 *
 * PORT, TLS_CERT, TLS_KEY from the environment; listens on 127.0.0.1 only.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { WebSocketServer, type WebSocket } from 'ws';

const port = Number(process.env.PORT);
const server = createServer({ cert: readFileSync(process.env.TLS_CERT!), key: readFileSync(process.env.TLS_KEY!), minVersion: 'TLSv1.2' }, (_req, res) => {
  res.writeHead(404).end();
});
const wss = new WebSocketServer({ server, maxPayload: 16_384 });
const identity = new WeakMap<WebSocket, { userUID: string; displayName: string }>();

wss.on('connection', (ws, req) => {
  const q = new URL(req.url ?? '/', 'https://localhost').searchParams;
  identity.set(ws, { userUID: q.get('userUID') ?? 'anon', displayName: q.get('displayName') ?? 'anon' });
  ws.on('message', (data) => {
    let m: { roomId?: unknown; msg?: unknown; type?: unknown };
    try {
      m = JSON.parse(data.toString()) as typeof m;
    } catch {
      return;
    }
    if (typeof m.msg !== 'string') return;
    const who = identity.get(ws)!;
    const frame = JSON.stringify({
      displayName: who.displayName,
      msg: m.msg,
      roomId: m.roomId,
      type: m.type,
      userUID: who.userUID,
      id: randomBytes(9).toString('base64url'),
      ts: Date.now(),
    });
    for (const other of wss.clients) {
      if (other !== ws && other.readyState === 1) other.send(frame);
    }
  });
});

server.listen(port, '127.0.0.1');
const stop = () => {
  for (const c of wss.clients) c.terminate();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
