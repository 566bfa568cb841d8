import { randomFillSync } from 'node:crypto';

/** Ids that clients see. 96 random bits in base64url: URL-safe and not guessable, so a room
 * cannot be found (or a locked room reached) by enumerating ids. */
export interface IdSource {
  roomId(): string;
  aggroUID(): string;
  messageId(): string;
}

// Every chat message takes an id: one system call for each (randomBytes) was 2% of a busy
// server's time in the fan-out profile. The same CSPRNG fills a pool that serves hundreds of
// ids, as Node's own randomUUID() does; bytes are never handed out twice.
const pool = Buffer.allocUnsafe(4096);
let used = pool.length;

function randomId(bytes: number): string {
  if (used + bytes > pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  const id = pool.toString('base64url', used, used + bytes);
  used += bytes;
  return id;
}

export const randomIds: IdSource = {
  roomId: () => randomId(12),
  aggroUID: () => randomId(12),
  messageId: () => randomId(9),
};
