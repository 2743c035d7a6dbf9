// One request's trip upstream and back: the response is parsed only as far as framing needs, its
// hop-by-hop headers are replaced by keygate's own, and its bytes are relayed to the client as they
// arrive (with backpressure both ways). A 401 that may be replayed is held back instead, up to
// REPLAY_LIMIT, until the token hooks decide.
import type { Readable, Writable } from 'node:stream';
import type tls from 'node:tls';
import { type BodyFramer, HeadReader, HttpParseError, type ResponseHead, bodyFramer, isHopByHop, parseResponseHead } from './http1.js';
import type { ConnectionUser, UpstreamConnection } from './upstream.js';

/** Bodies up to this size are kept while they stream, so a request can be replayed once after a 401. */
export const REPLAY_LIMIT = 1024 * 1024;

export interface AttemptRequest {
  method: string;
  /** The client asked for the connection to stay open (HTTP/1.1 without `Connection: close`). */
  keepAlive: boolean;
  /** Sent upstream as HTTP/1.1 (an HTTP/1.0 request goes as 1.0, and its connection is not reused). */
  http11: boolean;
  /** Hold a 401 for a replay (asked when it arrives): the request carries keygate's credential and its whole body was kept. */
  holdUnauthorized(): boolean;
  /** The client's request body has been read to its end (asked when the response head arrives). */
  bodyDone(): boolean;
  /** The client sent `Expect: 100-continue`: the server's 100 Continue is passed on to it. */
  expectContinue: boolean;
}

interface DrainWait {
  reader: Readable;
  writer: Writable;
  onDrain: () => void;
}

export type AttemptOutcome =
  | {
      kind: 'response';
      status: number;
      /** The connection can go back to the pool. */
      reusable: boolean;
      keepAliveMs: number | undefined;
      /** The client connection is to be closed after this response (Connection: close was sent). */
      closeClient: boolean;
    }
  /** A 401 held back: `bytes` is the whole response as the client would get it. */
  | { kind: 'held'; status: number; bytes: Buffer[]; reusable: boolean; keepAliveMs: number | undefined; closeClient: boolean }
  /** `responseStarted`: the upstream had sent bytes; `clientStarted`: the client already got the response head. */
  | { kind: 'error'; error: Error; responseStarted: boolean; clientStarted: boolean; status: number | undefined };

/**
 * Reads one response from `connection` and relays it to `client`. The request is written by the
 * caller (head and body); `done` is called exactly once.
 */
export class UpstreamAttempt implements ConnectionUser {
  private readonly heads = new HeadReader(502);
  private head: ResponseHead | undefined;
  private framer: BodyFramer | undefined;
  private held: { bytes: Buffer[]; size: number } | undefined;
  private closeClient = false;
  private responseStarted = false;
  private clientStarted = false;
  private finished = false;
  private drains: DrainWait[] = [];
  private readonly socket: tls.TLSSocket;

  constructor(
    readonly connection: UpstreamConnection,
    private readonly client: tls.TLSSocket,
    private readonly request: AttemptRequest,
    private readonly done: (outcome: AttemptOutcome) => void,
  ) {
    this.socket = connection.socket;
    connection.use(this);
  }

  /** Writes request bytes upstream (a string as latin1); when the upstream socket is full, `from` waits for it to drain. */
  write(bytes: Buffer | string, from?: Readable): void {
    this.connection.active = true;
    const ok = typeof bytes === 'string' ? this.socket.write(bytes, 'latin1') : this.socket.write(bytes);
    if (!ok && from) this.pauseUntilDrain(from, this.socket);
  }

  /** The client went away, or its request turned out malformed: the connection cannot be reused. */
  abort(): void {
    if (this.finished) return;
    this.finished = true;
    this.stopWaiting();
    this.connection.destroy();
  }

  onData(chunk: Buffer): void {
    this.responseStarted = true;
    if (this.framer) return this.onBody(chunk, 0);
    this.heads.append(chunk);
    this.readHead();
  }

  private readHead(): void {
    for (;;) {
      let head: ResponseHead;
      try {
        const text = this.heads.next();
        if (text === undefined) return;
        head = parseResponseHead(text, this.request.method);
      } catch (err) {
        return this.fail(err as Error);
      }
      if (head.status < 200) {
        // 101 cannot happen (an Upgrade request never reaches the forwarder). 100 Continue answers
        // the Expect the client sent (RFC 9110 §10.1.1: forwarded end to end), so it goes to that
        // client and to no other; other interim responses (103 Early Hints) are passed on.
        if (head.status === 101) return this.fail(new HttpParseError(502, 'unexpected 101 Switching Protocols'));
        if ((head.status !== 100 || this.request.expectContinue) && this.request.http11) this.client.write(this.clientHead(head, false));
        continue;
      }
      return this.onFinalHead(head);
    }
  }

  private onFinalHead(head: ResponseHead): void {
    this.head = head;
    this.framer = bodyFramer(head.framing, 502);
    // An early answer (the request body still streaming) ends the client connection too: the rest
    // of that body would otherwise have to be read and thrown away.
    this.closeClient = !this.request.keepAlive || head.framing.kind === 'close' || !this.request.bodyDone();
    if (head.status === 401 && this.request.holdUnauthorized()) this.held = { bytes: [], size: 0 };
    else this.clientStarted = true;
    const headBytes = Buffer.from(this.clientHead(head, this.closeClient), 'latin1');
    const rest = this.heads.buffered;
    this.heads.buffered = undefined;
    const end = rest ? this.feed(rest, 0) : this.framer.done ? 0 : -1;
    if (end === -2) return;
    const body = rest === undefined ? undefined : end === -1 ? rest : rest.subarray(0, end);
    // One write for the head and the first body bytes: one TLS record, one syscall.
    this.deliver(body && body.length > 0 ? Buffer.concat([headBytes, body]) : headBytes);
    if (end !== -1) this.finish(rest !== undefined && end < rest.length);
  }

  private onBody(chunk: Buffer, start: number): void {
    const end = this.feed(chunk, start);
    if (end === -2) return;
    this.deliver(end === -1 ? chunk : chunk.subarray(start, end));
    if (end !== -1) this.finish(end < chunk.length);
  }

  /** framer.feed, with a malformed body failing the attempt (-2). */
  private feed(chunk: Buffer, start: number): number {
    try {
      return this.framer!.feed(chunk, start);
    } catch (err) {
      this.fail(err as Error);
      return -2;
    }
  }

  private deliver(bytes: Buffer): void {
    if (this.held) {
      this.held.bytes.push(bytes);
      this.held.size += bytes.length;
      if (this.held.size > REPLAY_LIMIT) this.release();
      return;
    }
    if (this.client.destroyed) return;
    if (!this.client.write(bytes)) this.pauseUntilDrain(this.socket, this.client);
  }

  /**
   * Backpressure: `reader` waits until `writer` drains. The listener belongs to this attempt and is
   * removed when it ends, because both sockets outlive it: the upstream one goes back to the pool
   * and the client's serves its next request. A listener left behind would resume a socket that
   * another request (or another tunnel, through the pool) has paused for its own backpressure.
   */
  pauseUntilDrain(reader: Readable, writer: Writable): void {
    if (this.finished || this.drains.some((d) => d.reader === reader)) return;
    reader.pause();
    const wait = { reader, writer, onDrain: () => this.drained(wait) };
    this.drains.push(wait);
    writer.once('drain', wait.onDrain);
  }

  private drained(wait: DrainWait): void {
    this.drains = this.drains.filter((d) => d !== wait);
    if (!this.finished) wait.reader.resume();
  }

  /** Removes this attempt's drain listeners; a reader it paused is resumed by its next user. */
  private stopWaiting(): void {
    for (const wait of this.drains) wait.writer.off('drain', wait.onDrain);
    this.drains = [];
  }

  /** Drain listeners this attempt still has (for the tests: none once it ended). */
  get waitingForDrain(): number {
    return this.drains.length;
  }

  /** Stops holding a 401 that turned out large: it is passed on as it streams, without a replay. */
  private release(): void {
    const held = this.held!;
    this.held = undefined;
    this.clientStarted = true;
    for (const bytes of held.bytes) this.deliver(bytes);
  }

  /** The response ended; `extra` bytes after it mean the server broke framing, so no reuse. */
  private finish(extra = false): void {
    if (this.finished) return;
    this.finished = true;
    this.stopWaiting();
    // The upstream socket was paused for this client's backpressure: its next user starts it afresh.
    if (this.socket.isPaused()) this.socket.resume();
    const head = this.head!;
    const reusable = !extra && head.keepAlive && head.minor === 1 && this.request.http11 && this.request.bodyDone();
    this.connection.unuse();
    if (!reusable) this.connection.destroy();
    const common = { status: head.status, reusable, keepAliveMs: head.keepAliveMs, closeClient: this.closeClient };
    this.done(this.held ? { kind: 'held', bytes: this.held.bytes, ...common } : { kind: 'response', ...common });
  }

  onGone(error: Error | undefined): void {
    // A response without framing ends when the server closes.
    if (!error && this.head?.framing.kind === 'close') return this.finish();
    this.fail(error ?? Object.assign(new Error('upstream closed the connection'), { code: 'ECONNRESET' }));
  }

  onTimeout(): void {
    const code = this.head ? 'KEYGATE_BODY_TIMEOUT' : 'KEYGATE_HEADERS_TIMEOUT';
    this.fail(Object.assign(new Error('upstream timed out'), { code }));
  }

  private fail(error: Error): void {
    if (this.finished) return;
    this.finished = true;
    this.stopWaiting();
    this.connection.destroy();
    // A held 401 never reached the client: the attempt failed before the client saw anything.
    this.done({
      kind: 'error',
      error,
      responseStarted: this.responseStarted,
      clientStarted: this.clientStarted,
      status: this.head?.status,
    });
  }

  /** The head the client gets: keygate's own connection fields instead of the server's. */
  private clientHead(head: ResponseHead, close: boolean): string {
    // keygate speaks HTTP/1.1 to the client whatever the server spoke (RFC 9110 §6.2).
    let out = `HTTP/1.1${head.statusLine.slice(8)}\r\n`;
    const raw = head.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) {
      if (isHopByHop(raw[i].toLowerCase(), head.connectionTokens)) continue;
      out += `${raw[i]}: ${raw[i + 1]}\r\n`;
    }
    if (close && head.status >= 200) out += 'Connection: close\r\n';
    return `${out}\r\n`;
  }
}
