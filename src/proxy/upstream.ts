// Kept-alive TLS connections to provider hosts, shared by every tunnel of the run: a client that
// opens a new tunnel per request (curl in a loop) still reuses keygate's upstream connection, and a
// kept-alive client reuses the same one request after request. Each connection has its listeners
// for life and hands events to its current user, and one sweep a second handles every timeout:
// per request, nothing is registered or armed.
import type tls from 'node:tls';
import { type ConnectTarget, connectTls, trustContext } from '../net.js';

/** Idle connections are closed after this, or 1 s before the server's own Keep-Alive timeout. */
const IDLE_MS = 10_000;
const MAX_IDLE_PER_HOST = 64;
/** A request with no byte from the server (and none sent) for this long is given up on. */
const BUSY_TIMEOUT_MS = 300_000;
const SWEEP_MS = 1000;

/** Who gets a connection's events while it serves a request. */
export interface ConnectionUser {
  onData(chunk: Buffer): void;
  /** The server closed (or the connection failed); `error` when it failed. */
  onGone(error: Error | undefined): void;
  /** No traffic for BUSY_TIMEOUT_MS. */
  onTimeout(): void;
}

export class UpstreamConnection {
  /** Used before: a failure before any response byte may be a server closing an idle connection. */
  reused = false;
  /** Set on traffic, cleared by each sweep: the sweeps in a row without it measure silence. */
  active = true;
  private silentSweeps = 0;
  private user: ConnectionUser | undefined;
  private idleUntil = 0;

  constructor(
    readonly socket: tls.TLSSocket,
    readonly key: string,
    private readonly pool: UpstreamPool,
  ) {
    socket.on('data', (chunk: Buffer) => {
      this.active = true;
      if (this.user) this.user.onData(chunk);
      else this.destroy(); // a server speaking out of turn on an idle connection
    });
    const gone = (error?: Error): void => {
      const user = this.user;
      this.user = undefined;
      this.destroy();
      user?.onGone(error);
    };
    socket.on('end', () => gone());
    socket.on('close', () => gone());
    socket.on('error', (err: Error) => gone(err));
  }

  /** Hands the connection to `user` for one request. */
  use(user: ConnectionUser): void {
    this.user = user;
    this.active = true;
    this.silentSweeps = 0;
    this.pool.busy.add(this);
  }

  /** Ends the current user's turn (it no longer gets events). */
  unuse(): void {
    this.user = undefined;
    this.pool.busy.delete(this);
  }

  destroy(): void {
    this.user = undefined;
    this.pool.forget(this);
    this.socket.destroy();
  }

  /** The pool's sweep: a silent busy connection times out, an idle one past its time closes. */
  sweep(now: number): void {
    if (this.user) {
      if (this.active) this.silentSweeps = 0;
      else if (++this.silentSweeps * SWEEP_MS >= BUSY_TIMEOUT_MS) this.user.onTimeout();
      this.active = false;
    } else if (now >= this.idleUntil) {
      this.destroy();
    }
  }

  /** Marks the connection idle until `until` (ms since the epoch). */
  idle(until: number): void {
    this.idleUntil = until;
  }
}

export class UpstreamPool {
  /** Connections serving a request (swept for timeouts). */
  readonly busy = new Set<UpstreamConnection>();
  private readonly idle = new Map<string, UpstreamConnection[]>();
  private readonly sessions = new Map<string, Buffer>();
  private secureContext: tls.SecureContext | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly connectTo: Map<string, ConnectTarget>,
    private readonly ca?: string[],
  ) {}

  /** Builds the trust store now rather than on the first connection. */
  warm(): void {
    if (!this.closed) this.secureContext ??= trustContext(this.ca);
  }

  /** An idle connection to host:port, if one is open. */
  take(host: string, port: number): UpstreamConnection | undefined {
    const list = this.idle.get(`${host}:${port}`);
    let connection = list?.pop();
    while (connection) {
      const socket = connection.socket;
      if (!socket.destroyed && socket.readable && socket.writable) {
        connection.reused = true;
        return connection;
      }
      connection.destroy();
      connection = list!.pop();
    }
    return undefined;
  }

  /** A new connection, verified for host (a rejection carries the network or TLS error code). */
  async connect(host: string, port: number): Promise<UpstreamConnection> {
    const key = `${host}:${port}`;
    // Built on first use (it parses every trusted root), then shared by every connection.
    this.secureContext ??= trustContext(this.ca);
    const socket = await connectTls(this.connectTo, host, port, { secureContext: this.secureContext, session: this.sessions.get(key) });
    socket.on('session', (session: Buffer) => this.sessions.set(key, session));
    const connection = new UpstreamConnection(socket, key, this);
    if (this.closed) connection.destroy();
    this.sweeper ??= setInterval(() => this.sweep(), SWEEP_MS).unref();
    return connection;
  }

  /** A dedicated connection, verified like the pooled ones but never pooled (an upgraded protocol owns it). */
  async open(host: string, port: number): Promise<tls.TLSSocket> {
    this.secureContext ??= trustContext(this.ca);
    return connectTls(this.connectTo, host, port, { secureContext: this.secureContext });
  }

  /** Back into the pool after a complete exchange; `keepAliveMs` is the server's Keep-Alive hint. */
  release(connection: UpstreamConnection, keepAliveMs?: number): void {
    connection.unuse();
    const idleMs = keepAliveMs === undefined ? IDLE_MS : Math.min(IDLE_MS, keepAliveMs - 1000);
    const list = this.idle.get(connection.key) ?? [];
    if (this.closed || connection.socket.destroyed || idleMs <= 0 || list.length >= MAX_IDLE_PER_HOST) return connection.destroy();
    connection.idle(Date.now() + idleMs);
    list.push(connection);
    this.idle.set(connection.key, list);
  }

  /** Drops every trace of a connection that is going away. */
  forget(connection: UpstreamConnection): void {
    this.busy.delete(connection);
    const list = this.idle.get(connection.key);
    const at = list?.indexOf(connection) ?? -1;
    if (at !== -1) list!.splice(at, 1);
  }

  close(): void {
    this.closed = true;
    if (this.sweeper) clearInterval(this.sweeper);
    for (const list of this.idle.values()) for (const connection of [...list]) connection.destroy();
    for (const connection of [...this.busy]) connection.destroy();
  }

  private sweep(): void {
    const now = Date.now();
    for (const connection of [...this.busy]) connection.sweep(now);
    for (const list of this.idle.values()) for (const connection of [...list]) connection.sweep(now);
  }
}
