/**
 * A TCP relay on loopback between clients and a server, in the test process, to break lines the
 * way phones lose them (spec 7.1): `cut()` destroys both sides of every line at once (a network
 * gone; each end sees its socket close), `silence()` stops forwarding on every line but closes
 * nothing (packets dropped: only heartbeats notice). While `down`, new lines are refused (the
 * phone is still in the tunnel); `target` may point at another server, so that a client's
 * reconnection, to the same address, lands elsewhere (a balancer's choice). TLS passes through
 * untouched: the client still verifies the server's certificate.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { TestServer } from './server.js';

interface RelayLine {
  client: Socket;
  server: Socket;
  silent: boolean;
}

export class Relay {
  private readonly lines = new Set<RelayLine>();
  /** New lines are refused (destroyed on arrival). */
  down = false;
  /** Lines accepted so far. */
  accepted = 0;

  private constructor(
    private readonly listener: Server,
    public target: number,
    readonly port: number,
  ) {}

  static async start(to: TestServer): Promise<Relay> {
    let relay: Relay | undefined;
    const listener = createServer((client) => relay?.accept(client));
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    relay = new Relay(listener, portOf(to), (listener.address() as { port: number }).port);
    running.add(relay);
    return relay;
  }

  /** The server's URL with the relay's port, for clients. */
  url(server: TestServer): string {
    const u = new URL(server.url);
    u.port = String(this.port);
    return u.origin;
  }

  /** Where new lines go from now on. */
  retarget(to: TestServer): void {
    this.target = portOf(to);
  }

  get open(): number {
    return this.lines.size;
  }

  private accept(client: Socket): void {
    if (this.down) {
      client.destroy();
      return;
    }
    this.accepted += 1;
    const server = connect(this.target, '127.0.0.1');
    const line: RelayLine = { client, server, silent: false };
    this.lines.add(line);
    const end = () => {
      this.lines.delete(line);
      client.destroy();
      server.destroy();
    };
    client.on('data', (d) => void (line.silent || server.write(d)));
    server.on('data', (d) => void (line.silent || client.write(d)));
    for (const s of [client, server]) {
      s.on('error', end);
      s.on('close', end);
    }
  }

  /** Every line goes at once, both sides destroyed. */
  cut(): void {
    for (const line of this.lines) {
      this.lines.delete(line);
      line.client.destroy();
      line.server.destroy();
    }
  }

  /** Every current line goes silent: nothing forwarded either way, nothing closed. New lines
   * (the client's reconnection) work. */
  silence(): void {
    for (const line of this.lines) line.silent = true;
  }

  async close(): Promise<void> {
    running.delete(this);
    this.cut();
    await new Promise<void>((resolve) => this.listener.close(() => resolve()));
  }
}

function portOf(server: TestServer): number {
  return Number(new URL(server.url).port);
}

const running = new Set<Relay>();

/** Relays still open at the end of a file are closed (a failing test leaves its own). */
export async function closeRelays(): Promise<void> {
  await Promise.all([...running].map((r) => r.close()));
}
