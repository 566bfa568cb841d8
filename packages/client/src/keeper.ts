/**
 * What keeps a client's connection going on a phone, beside socket.io's own reconnection: the
 * token refreshed before it expires and carried by every handshake, the retries socket.io leaves
 * out (it never tries again after a refused handshake, even one that says "later", nor after a
 * server's disconnect, even a shutdown that says when), and pause/resume for the app's AppState.
 * It reports into a `ConnectionState`.
 */
import type { Socket } from 'socket.io-client';
import { backoffDelay, ConnectionState, tokenExpiresAt, type BackoffOptions } from './connection.js';
import { connectErrorFrom, type OnAirConnectError } from './errors.js';

export const DEFAULT_REFRESH_BEFORE_MS = 300_000;
// setTimeout's largest delay; a token valid for longer is refreshed in steps.
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface KeeperOptions {
  token: string | undefined;
  refreshToken: (() => Promise<string>) | undefined;
  refreshBeforeMs: number;
  backoff: Required<BackoffOptions>;
  /** False when socket.io's reconnection is off: then nothing is retried here either. */
  reconnects: boolean;
}

export class ConnectionKeeper {
  readonly state = new ConnectionState();
  private socket!: Socket;
  private token: string | undefined;
  private refreshing: Promise<string> | undefined;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** Refused handshakes retried since the last connection. */
  private refusals = 0;
  /** Set once `open()` has connected: later refusals are retried here, not rejected. */
  opened = false;
  paused = false;
  closed = false;

  constructor(private readonly opts: KeeperOptions) {
    this.token = opts.token;
  }

  /** What the handshake sends: `base` (the identity), and a token refreshed first when it is
   * missing or about to expire (a refresh that fails leaves the old one; the server then says
   * AUTH_EXPIRED, which is retried). socket.io asks before every connection attempt. */
  async handshakeAuth(base: Record<string, unknown>): Promise<Record<string, unknown>> {
    let token = this.token;
    if (this.opts.refreshToken && (token === undefined || this.expiresSoon(token))) {
      token = await this.freshToken().catch(() => token);
    }
    return token === undefined ? { ...base } : { ...base, token };
  }

  /** Starts following `socket`'s events; called once, by the client's constructor. */
  attach(socket: Socket): void {
    this.socket = socket;
    socket.on('connect', () => {
      this.refusals = 0;
      this.state.apply({ type: 'connected', recovered: socket.recovered === true });
    });
    socket.io.on('reconnect_attempt', () => this.state.apply({ type: 'attempt' }));
    socket.on('disconnect', (reason) => {
      if (this.closed || this.paused || reason === 'io client disconnect') return;
      // After a server-side disconnect only a shutdown notice schedules a return (retryIn).
      if (reason === 'io server disconnect') {
        if (this.retryTimer === undefined) this.state.apply({ type: 'lost', willRetry: false });
        return;
      }
      this.state.apply({ type: 'lost', willRetry: this.opts.reconnects && socket.active });
    });
    socket.on('connect_error', (err) => {
      if (!this.opened || this.closed || this.paused) return;
      const error = connectErrorFrom(err);
      if (socket.active) {
        // The transport failed; socket.io tries again by itself.
        this.state.apply({ type: 'lost', willRetry: this.opts.reconnects, error });
        return;
      }
      const retry =
        this.opts.reconnects &&
        (error.reconnect === 'after-delay' || (error.reconnect === 'with-new-token' && this.opts.refreshToken !== undefined));
      if (!retry) {
        this.state.apply({ type: 'lost', willRetry: false, error });
        return;
      }
      // The next attempt's handshake fetches a fresh token itself.
      if (error.reconnect === 'with-new-token') this.token = undefined;
      this.retryIn(backoffDelay(this.refusals++, this.opts.backoff), error);
    });
    this.scheduleRefresh();
  }

  /** `open()` failed: nothing more is tried. */
  failed(error: OnAirConnectError): void {
    this.state.apply({ type: 'lost', willRetry: false, error });
  }

  /** Connect again after `wait` ms (a shutdown's `retryAfterMs`, or a backoff after a refusal). */
  retryIn(wait: number, error: OnAirConnectError | null = null): void {
    if (!this.opts.reconnects || this.closed || this.paused) return;
    clearTimeout(this.retryTimer);
    this.state.apply({ type: 'lost', willRetry: true, retryAt: Date.now() + wait, error });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.closed || this.paused) return;
      this.state.apply({ type: 'attempt' });
      this.socket.connect();
    }, wait);
  }

  pause(): void {
    if (this.paused || this.closed) return;
    this.paused = true;
    this.stopTimers();
    this.state.apply({ type: 'paused' });
    const manager = this.socket.io;
    if (this.socket.connected) {
      // No DISCONNECT packet: that would be an explicit leave, which ends the session at once.
      manager.reconnection(false);
      manager.engine?.close();
    } else {
      // Between attempts: stop socket.io's own schedule (no packet goes out while disconnected).
      this.socket.disconnect();
    }
  }

  resume(): void {
    if (!this.paused || this.closed) return;
    this.paused = false;
    this.socket.io.reconnection(this.opts.reconnects);
    this.state.apply({ type: 'connecting' });
    this.scheduleRefresh();
    this.socket.connect();
  }

  close(): void {
    this.closed = true;
    this.stopTimers();
    this.state.apply({ type: 'closed' });
  }

  private stopTimers(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    clearTimeout(this.refreshTimer);
  }

  private expiresSoon(token: string): boolean {
    const exp = tokenExpiresAt(token);
    return exp !== null && exp - this.opts.refreshBeforeMs <= Date.now();
  }

  /** One refresh at a time, whoever asks. */
  private freshToken(): Promise<string> {
    this.refreshing ??= this.opts.refreshToken!()
      .then((token) => {
        this.token = token;
        this.scheduleRefresh(true);
        return token;
      })
      .finally(() => {
        this.refreshing = undefined;
      });
    return this.refreshing;
  }

  /** Refresh `refreshBeforeMs` before the token expires, so that a reconnection after a blip does
   * not wait for the identity provider. Not while paused: `resume()` checks the token. A token
   * stale as soon as it is given (a clock off) is not asked for again at once, which would
   * loop; the next handshake asks, and an AUTH_EXPIRED after it. */
  private scheduleRefresh(justRefreshed = false): void {
    clearTimeout(this.refreshTimer);
    if (!this.opts.refreshToken || this.token === undefined || this.paused || this.closed) return;
    const exp = tokenExpiresAt(this.token);
    if (exp === null) return;
    const wait = Math.max(0, exp - this.opts.refreshBeforeMs - Date.now());
    if (justRefreshed && wait === 0) return;
    this.refreshTimer = setTimeout(() => {
      if (wait > MAX_TIMER_MS) this.scheduleRefresh();
      else this.freshToken().catch(() => undefined);
    }, Math.min(wait, MAX_TIMER_MS));
  }
}
