/**
 * Who may connect to a programme, decided once per handshake after the gate's rate limit (which
 * `ConnectGate` applies to every CONNECT): the server is not shutting down, the programme is on
 * air, the identity is authentic, the user is neither banned nor kicked, and the programme is
 * still on air once all that was awaited.
 *
 * A handshake into a programme with a runtime here is decided by the namespace's middleware
 * (`install`). One into a programme without one is decided by `admitNew` first, so a refused
 * handshake makes no namespace; the identity it checked is handed to the middleware of the
 * namespace made for it, which does not check it again.
 */
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import type { Identity } from '../domain/model.js';
import type { OnAirService } from '../domain/service.js';
import type { ConnectErrorCode } from '../protocol/index.js';
import type { RecordStore } from '../records/record-store.js';
import { HandshakeError, type Authenticator, type HandshakeInput } from './auth.js';
import { clientAddress } from './client-address.js';
import type { ConnectGate } from './connect-gate.js';
import type { ProgrammeRuntime } from './programme-runtime.js';
import type { HandshakeRefusals } from './refusal-log.js';
import type { OnAirSocket } from './types.js';

type Admission = { identity: Identity } | { code: ConnectErrorCode; message: string };

const NOT_ON_AIR: Admission = { code: 'PROGRAM_NOT_ON_AIR', message: 'this programme is not on air' };

export interface HandshakeDeps {
  gate: ConnectGate;
  authenticator: Authenticator;
  /** Bans are read here at each handshake, so a ban made on any server holds at once everywhere. */
  records: Pick<RecordStore, 'findBan'>;
  service: Pick<OnAirService, 'kickedFor'>;
  /** Whether the schedule lets clients into the programme now. */
  admits(program: string): boolean;
  /** Whether the server is shutting down. */
  closing(): boolean;
  /** A namespace made for a handshake that was then refused goes at once. */
  releaseIfIdle(program: string): Promise<void>;
  refusals: HandshakeRefusals;
  metrics: { backendError(backend: 'state' | 'database'): void };
  clock: Clock;
  trustProxy: number;
  log: Logger;
}

function refusal(code: ConnectErrorCode, message: string): Error & { data: { code: string; message: string } } {
  return Object.assign(new Error(code), { data: { code, message } });
}

export class Handshake {
  constructor(private readonly deps: HandshakeDeps) {}

  /** The checks after the rate limit. */
  private async admission(program: string, input: HandshakeInput): Promise<Admission> {
    const { deps } = this;
    if (deps.closing()) return { code: 'SERVER_SHUTDOWN', message: 'this server is shutting down; connect again in a moment' };
    if (!deps.admits(program)) return NOT_ON_AIR;
    let identity: Identity;
    try {
      identity = await deps.authenticator.authenticate(input);
    } catch (err) {
      if (err instanceof HandshakeError) return { code: err.code, message: err.message };
      deps.log.warn({ err }, 'authenticator failed');
      return { code: 'AUTH_INVALID', message: 'authentication failed' };
    }
    if (await this.banned(identity.userUID, program)) return { code: 'BANNED', message: 'you are banned from this programme' };
    // As with bans, a backend that is away lets the handshake through (chat stays up).
    const kickedMs = await deps.service.kickedFor(program, identity.userUID).catch(() => {
      deps.metrics.backendError('state');
      return 0;
    });
    if (kickedMs > 0) return { code: 'KICKED', message: `you were removed from this programme; try again in ${Math.ceil(kickedMs / 1000)} s` };
    // Checked again: the programme may have gone off air while this handshake waited, and
    // its end only disconnects the sockets that were there.
    if (!deps.admits(program)) return NOT_ON_AIR;
    return { identity };
  }

  /**
   * The same checks for a socket that socket.io's connection state recovery let in without its
   * middleware (spec 7.1): the middleware is skipped for them because a socket outside
   * `nsp.sockets` while it awaits its checks misses the broadcasts of that moment, which a
   * recovery must not. `null`: admitted (the same user as before the blip); else why not.
   */
  async recheck(socket: OnAirSocket): Promise<{ code: ConnectErrorCode; message: string } | null> {
    const program = socket.nsp.name.slice(1);
    const result = await this.admission(program, {
      auth: (socket.handshake.auth ?? {}) as Record<string, unknown>,
      query: socket.handshake.query as Record<string, unknown>,
      headers: socket.handshake.headers,
    });
    if ('code' in result) return result;
    if (result.identity.userUID !== socket.data.identity?.userUID) return { code: 'AUTH_INVALID', message: 'not the user of the session it recovers' };
    socket.data.identity = result.identity;
    socket.data.program = program;
    return null;
  }

  /** Should the database be away, the handshake goes ahead (chat stays up). */
  private async banned(userUID: string, program: string): Promise<boolean> {
    try {
      return (await this.deps.records.findBan(userUID, program, this.deps.clock.now())) !== null;
    } catch (err) {
      this.deps.metrics.backendError('database');
      this.deps.log.warn({ err, program }, 'ban check failed; letting the handshake through');
      return false;
    }
  }

  /** A programme with no runtime here gets one only for a handshake that passed. */
  readonly admitNew = (program: string, auth: Record<string, unknown>, accept: () => void): void => {
    const { gate } = this.deps;
    const line = gate.current();
    // Not from a client's packet: its middleware decides, on the namespace made for it.
    if (!line) return accept();
    const nsp = `/${program}`;
    const query = (line.conn.request as { _query?: Record<string, unknown> })._query ?? {};
    void this.admission(program, { auth, query, headers: line.conn.request.headers }).then(
      (result) => {
        if ('code' in result) return gate.refuse(line, nsp, result.code, result.message);
        // Gone while it was checked: socket.io would make the namespace and then drop the socket.
        if (line.conn.readyState !== 'open') return;
        gate.checked(line, nsp, result.identity);
        accept();
      },
      (err: unknown) => {
        this.deps.log.error({ err, program }, 'handshake check failed');
        gate.refuse(line, nsp, 'AUTH_INVALID', 'authentication failed');
      },
    );
  };

  /** The middleware of the programme's namespace: every handshake into it is decided here. */
  install(runtime: ProgrammeRuntime): void {
    const { deps } = this;
    const { program, nsp } = runtime;
    nsp.use((socket, next) => {
      runtime.handshakeStarted();
      let settled = false;
      const done = (err?: Error) => {
        if (settled) return;
        settled = true;
        runtime.handshakeEnded();
        next(err);
      };
      const address = clientAddress(socket.request, socket.handshake.address, deps.trustProxy);
      const line = deps.gate.lineOf(socket.conn);
      const refuse = (code: ConnectErrorCode, message: string) => {
        deps.refusals.refused(address, program, code, message);
        if (line) deps.gate.refused(line);
        done(refusal(code, message));
        // A namespace made for this handshake alone goes at once, not at the next housekeeping;
        // after socket.io has sent the refusal (a tick away), so it cleans up a namespace it still has.
        setImmediate(() => void deps.releaseIfIdle(program).catch(() => {}));
      };
      // Checked by `admitNew` just before this namespace was made for it.
      const checked = line ? deps.gate.takeChecked(line, nsp.name) : undefined;
      const decided: Promise<Admission> = checked
        ? Promise.resolve(deps.admits(program) ? { identity: checked } : NOT_ON_AIR)
        : this.admission(program, {
            auth: (socket.handshake.auth ?? {}) as Record<string, unknown>,
            query: socket.handshake.query as Record<string, unknown>,
            headers: socket.handshake.headers,
          });
      decided.then(
        (result) => {
          if ('code' in result) return refuse(result.code, result.message);
          socket.data.identity = result.identity;
          socket.data.program = program;
          done();
        },
        (err: unknown) => {
          deps.log.error({ err, program }, 'handshake check failed');
          refuse('AUTH_INVALID', 'authentication failed');
        },
      );
    });
  }
}
