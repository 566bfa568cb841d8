/**
 * Who calls `/v1/me`: the same identity a socket of theirs has. In `jwt` mode the token comes
 * only from `Authorization: Bearer` (a token in a query string ends up in proxies' and CDNs'
 * logs) and is verified by the socket's authenticator; in `dev` mode the `x-onair-user` header
 * names the user, unverified, as the dev handshake does.
 *
 * Neither the token nor the header is logged or echoed: a refusal says only which check failed.
 */
import type { IncomingMessage } from 'node:http';
import { HandshakeError, type Authenticator } from '../transport/auth.js';
import { userUID as userUIDSchema } from '../operator/admin-schemas.js';
import { HttpError } from '../operator/http-errors.js';

export type Identify = (req: IncomingMessage) => Promise<string>;

export function identifier(authenticator: Authenticator): Identify {
  if (authenticator.mode === 'dev') {
    return async (req) => {
      const raw = req.headers['x-onair-user'];
      const parsed = userUIDSchema.safeParse(Array.isArray(raw) ? raw[0] : raw);
      if (!parsed.success) throw new HttpError('UNAUTHORIZED', 'AUTH_REQUIRED: send the user in x-onair-user (AUTH_MODE=dev)');
      return parsed.data;
    };
  }
  return async (req) => {
    const header = req.headers.authorization;
    if (typeof header !== 'string' || !/^Bearer\s+\S/i.test(header)) throw new HttpError('UNAUTHORIZED', 'AUTH_REQUIRED: send Authorization: Bearer <token>');
    try {
      // The display name is the socket's business: a placeholder lets a token without a `name`
      // claim through the identity rules, which still check its `sub`.
      const identity = await authenticator.authenticate({ auth: { displayName: 'viewer' }, query: {}, headers: { authorization: header } });
      return identity.userUID;
    } catch (err) {
      if (err instanceof HandshakeError) throw new HttpError('UNAUTHORIZED', `${err.code}: ${err.message}`);
      throw err;
    }
  };
}
