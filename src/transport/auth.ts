/**
 * Who is connecting. Runs in the handshake middleware, before a socket is accepted; identity
 * fields sent later in payloads are never read.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
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

/** The claims onair reads from a verified token. */
interface VerifiedClaims {
  sub: string;
  name?: string;
  picture?: string;
}

/**
 * Tokens verified before, so that a returning client (a blip, a reconnect, a second tab) does not
 * cost a signature verification again (an RS256 one from a JWKS is the dearest step of a JWT
 * handshake). Keyed by the SHA-256 of the whole token, signature included: a different token with
 * the same claims (another signature, a forged one) is never a hit and is verified anew. An entry
 * lives until the token's `exp` plus the clock tolerance, which is exactly when jose would start
 * refusing it; past that the token is verified again and refused as expired. Bounded: the least
 * recently used entry goes first. Never cached: a token that failed.
 *
 * What this does not change: a token was never revocable before its `exp` here (the server holds
 * no revocation list); bans and kicks are checked at every handshake, after authentication. What
 * it does change: a token signed by a key later removed from the JWKS is still accepted until its
 * `exp` if it was seen before the removal (JWT_CACHE_SIZE=0 turns the cache off).
 */
export class VerifiedTokens {
  private readonly entries = new Map<string, { claims: VerifiedClaims; untilMs: number }>();

  constructor(
    readonly max: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  static keyOf(token: string): string {
    return createHash('sha256').update(token).digest('base64url');
  }

  get(key: string): VerifiedClaims | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    this.entries.delete(key);
    if (this.now() >= e.untilMs) return undefined;
    this.entries.set(key, e); // most recently used last
    return e.claims;
  }

  set(key: string, claims: VerifiedClaims, untilMs: number): void {
    if (this.max <= 0 || untilMs <= this.now()) return;
    this.entries.delete(key);
    while (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { claims, untilMs });
  }
}

/** JWT mode: a token verified with jose against a secret, a PEM key or a remote key set. */
export class JwtAuthenticator implements Authenticator {
  readonly mode = 'jwt' as const;
  private readonly key: Promise<CryptoKey> | KeyObject | JWTVerifyGetKey;
  private readonly algorithms: string[];
  readonly verified: VerifiedTokens;

  constructor(private readonly config: Extract<Config['auth'], { mode: 'jwt' }>) {
    this.verified = new VerifiedTokens(config.cacheSize);
    const src = config.key;
    if (src.kind === 'secret') {
      // Imported once: given the raw bytes, jose imports them into WebCrypto at every
      // verification, which was most of an HS256 verification's cost.
      this.key = crypto.subtle.importKey('raw', new TextEncoder().encode(src.secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
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
    const claims = await this.verify(token);
    // The provider's name claim is trusted but free-form (long, tabs, line breaks): it is tidied
    // to fit rather than refused, since the user cannot change it here. A name typed in the
    // handshake is not trusted and goes through the identity rules as sent.
    const name = claims.name !== undefined ? (tidyLine(claims.name, DISPLAY_NAME_MAX) ?? undefined) : undefined;
    return toIdentity({
      userUID: claims.sub,
      displayName: name || first(auth.displayName) || first(query.displayName),
      photoURL: claims.picture ?? first(auth.photoURL) ?? first(query.photoURL),
    });
  }

  /** The token's claims, from the cache of tokens verified before or verified now. */
  private async verify(token: string): Promise<VerifiedClaims> {
    const key = this.verified.max > 0 ? VerifiedTokens.keyOf(token) : '';
    const cached = key ? this.verified.get(key) : undefined;
    if (cached) return cached;
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
      const verifyKey = this.key instanceof Promise ? await this.key : this.key;
      ({ payload } = await jwtVerify(token, verifyKey as CryptoKey, options));
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw new HandshakeError('AUTH_EXPIRED', 'token expired');
      throw new HandshakeError('AUTH_INVALID', err instanceof joseErrors.JOSEError ? `token rejected (${err.code})` : 'token rejected');
    }
    const claims: VerifiedClaims = { sub: payload.sub! };
    if (typeof payload.name === 'string') claims.name = payload.name;
    if (typeof payload.picture === 'string') claims.picture = payload.picture;
    // Until jose would refuse it: `exp` (required above) plus the same tolerance.
    if (key) this.verified.set(key, claims, (payload.exp! + this.config.clockToleranceS) * 1000);
    return claims;
  }
}

export function createAuthenticator(config: Config['auth']): Authenticator {
  return config.mode === 'jwt' ? new JwtAuthenticator(config) : new DevAuthenticator();
}
