/**
 * Who is connecting. Runs in the handshake middleware, before a socket is accepted; identity
 * fields sent later in payloads are never read.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { Config } from '../config/config.js';
import type { Identity } from '../domain/model.js';
import { ConnectErrorCode, identitySchema, parsePayload, tidyLine, DISPLAY_NAME_MAX } from '../protocol/index.js';

export class HandshakeError extends Error {
  constructor(
    readonly code: ConnectErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface HandshakeInput {
  auth: Record<string, unknown>;
  query: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
}

export interface Authenticator {
  readonly mode: 'dev' | 'jwt';
  /** The verified identity; throws `HandshakeError`. */
  authenticate(input: HandshakeInput): Promise<Identity>;
}

function first(v: unknown): unknown {
  return Array.isArray(v) ? v[0] : v;
}

function toIdentity(raw: Record<string, unknown>): Identity {
  const parsed = parsePayload(identitySchema, {
    userUID: first(raw.userUID),
    displayName: first(raw.displayName),
    photoURL: first(raw.photoURL),
  });
  if (!parsed.ok) throw new HandshakeError('AUTH_INVALID', `invalid identity: ${parsed.reason}`);
  const id: Identity = { userUID: parsed.value.userUID, displayName: parsed.value.displayName };
  if (parsed.value.photoURL) id.photoURL = parsed.value.photoURL;
  return id;
}

/** Dev mode: the identity as the seed's client sends it, from `auth` or else the query. */
export class DevAuthenticator implements Authenticator {
  readonly mode = 'dev' as const;
  async authenticate({ auth, query }: HandshakeInput): Promise<Identity> {
    const source = auth.userUID !== undefined ? auth : query;
    if (source.userUID === undefined || source.userUID === '') {
      throw new HandshakeError('AUTH_REQUIRED', 'send userUID and displayName in auth or query');
    }
    return toIdentity(source);
  }
}

/** JWT mode: a token verified with jose against a secret, a PEM key or a remote key set. */
export class JwtAuthenticator implements Authenticator {
  readonly mode = 'jwt' as const;
  private readonly key: Uint8Array | KeyObject | JWTVerifyGetKey;
  private readonly algorithms: string[];

  constructor(private readonly config: Extract<Config['auth'], { mode: 'jwt' }>) {
    const src = config.key;
    if (src.kind === 'secret') {
      this.key = new TextEncoder().encode(src.secret);
      this.algorithms = ['HS256'];
    } else if (src.kind === 'publicKey') {
      // A PEM public key or an X.509 certificate (as identity providers publish them).
      const key = createPublicKey(readFileSync(src.path));
      this.key = key;
      this.algorithms = key.asymmetricKeyType === 'rsa' ? ['RS256'] : ['ES256', 'ES384', 'ES512'];
    } else {
      // jose caches the set and refetches at most every 30 s when an unknown `kid` shows up,
      // which is how Firebase's rotating keys are meant to be consumed.
      this.key = createRemoteJWKSet(new URL(src.url), { cacheMaxAge: 10 * 60_000, cooldownDuration: 30_000 });
      this.algorithms = ['RS256', 'ES256'];
    }
  }

  async authenticate({ auth, query, headers }: HandshakeInput): Promise<Identity> {
    const header = first(headers.authorization);
    const bearer = typeof header === 'string' && /^Bearer\s+/i.test(header) ? header.replace(/^Bearer\s+/i, '') : undefined;
    const token = first(auth.token) ?? first(query.token) ?? bearer;
    if (typeof token !== 'string' || token === '') throw new HandshakeError('AUTH_REQUIRED', 'a token is required');
    let payload: JWTPayload;
    try {
      // Some slack on exp/nbf/iat: the provider's clock and ours are never exactly together, and
      // a token minted a second "in the future" must not lock a user out.
      const options: Parameters<typeof jwtVerify>[2] = {
        algorithms: this.algorithms,
        requiredClaims: ['exp', 'sub'],
        clockTolerance: this.config.clockToleranceS,
      };
      if (this.config.issuer) options.issuer = this.config.issuer;
      if (this.config.audience) options.audience = this.config.audience;
      ({ payload } = await jwtVerify(token, this.key as Uint8Array, options));
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw new HandshakeError('AUTH_EXPIRED', 'token expired');
      throw new HandshakeError('AUTH_INVALID', err instanceof joseErrors.JOSEError ? `token rejected (${err.code})` : 'token rejected');
    }
    // The provider's name claim is trusted but free-form (long, tabs, line breaks): it is tidied
    // to fit rather than refused, since the user cannot change it here. A name typed in the
    // handshake is not trusted and goes through the identity rules as sent.
    const name = typeof payload.name === 'string' ? (tidyLine(payload.name, DISPLAY_NAME_MAX) ?? undefined) : undefined;
    return toIdentity({
      userUID: payload.sub,
      displayName: name || first(auth.displayName) || first(query.displayName),
      photoURL: typeof payload.picture === 'string' ? payload.picture : (first(auth.photoURL) ?? first(query.photoURL)),
    });
  }
}

export function createAuthenticator(config: Config['auth']): Authenticator {
  return config.mode === 'jwt' ? new JwtAuthenticator(config) : new DevAuthenticator();
}
