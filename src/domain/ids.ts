import { randomBytes } from 'node:crypto';

/** Ids that clients see. 96 random bits in base64url: URL-safe and not guessable, so a room
 * cannot be found (or a locked room reached) by enumerating ids. */
export interface IdSource {
  roomId(): string;
  aggroUID(): string;
  messageId(): string;
}

export const randomIds: IdSource = {
  roomId: () => randomBytes(12).toString('base64url'),
  aggroUID: () => randomBytes(12).toString('base64url'),
  messageId: () => randomBytes(9).toString('base64url'),
};
