// One request's trip upstream and back: the undici handler that streams the response to the client
// (holding back a 401 that may be replayed), and the buffer that keeps a body for that replay.
import type { ServerResponse } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { sendError } from './responses.js';

/** Bodies up to this size are kept while they stream, so a request can be replayed once after a 401. */
export const REPLAY_LIMIT = 1024 * 1024;

// RFC 9110 §7.6.1: connection-specific fields are not forwarded. `expect` goes too: keygate answers
// 100 Continue itself (node's server does), and undici refuses the header.
export const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'proxy-authenticate',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
  'http2-settings',
]);

type Controller = Parameters<NonNullable<Dispatcher.DispatchHandler['onRequestStart']>>[0];

/**
 * Streams one upstream response into the client's response, with backpressure both ways. A 401 to
 * a replayable request is held back (up to REPLAY_LIMIT) until the token hooks decide: replay, or pass it on.
 */
export class UpstreamExchange implements Dispatcher.DispatchHandler {
  /** Set for a replayable request: resolves true when it replayed the request with a new token. */
  onUnauthorized: (() => Promise<boolean>) | undefined;
  private controller: Controller | undefined;
  private held: { status: number; message: string | undefined; headers: string[]; chunks: Buffer[]; size: number } | undefined;
  private status = 0;

  constructor(
    private readonly res: ServerResponse,
    private readonly describeError: (err: unknown) => string,
    private readonly done: (status: number, error?: string) => void,
  ) {
    res.once('close', () => {
      if (!res.writableFinished) this.controller?.abort(new Error('client closed the connection'));
    });
  }

  onRequestStart(controller: Controller): void {
    this.controller = controller;
    if (this.res.destroyed) controller.abort(new Error('client closed the connection'));
  }

  onResponseStart(controller: Controller, statusCode: number, headers: Record<string, string | string[] | undefined>, statusMessage?: string): void {
    if (statusCode < 200) return;
    this.status = statusCode;
    const list = responseHeaders(headers);
    if (statusCode === 401 && this.onUnauthorized) {
      this.held = { status: statusCode, message: statusMessage, headers: list, chunks: [], size: 0 };
      return;
    }
    this.res.writeHead(statusCode, statusMessage || undefined, list);
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    if (this.held) {
      this.held.chunks.push(chunk);
      this.held.size += chunk.length;
      if (this.held.size > REPLAY_LIMIT) this.release();
      return;
    }
    if (!this.res.write(chunk)) {
      controller.pause();
      this.res.once('drain', () => controller.resume());
    }
  }

  onResponseEnd(): void {
    const held = this.held;
    if (!held) {
      this.res.end();
      this.done(this.status);
      return;
    }
    const hook = this.onUnauthorized!;
    this.held = undefined;
    this.onUnauthorized = undefined;
    hook().then(
      (replayed) => {
        if (replayed) return;
        this.res.writeHead(held.status, held.message || undefined, held.headers);
        this.res.end(Buffer.concat(held.chunks));
        this.done(held.status);
      },
      (err: unknown) => this.onResponseError(undefined, err as Error),
    );
  }

  /** Stops holding a 401 that turned out large: it is passed on as it streams, without a replay. */
  private release(): void {
    const held = this.held!;
    this.held = undefined;
    this.onUnauthorized = undefined;
    this.res.writeHead(held.status, held.message || undefined, held.headers);
    for (const chunk of held.chunks) this.res.write(chunk);
  }

  onResponseError(_controller: Controller | undefined, err: Error): void {
    if (this.res.destroyed) return this.done(499, 'client closed the connection');
    const message = this.describeError(err);
    if (this.res.headersSent) {
      this.res.destroy();
      return this.done(this.status, message);
    }
    sendError(this.res, 502, 'keygate_upstream_error', message);
    this.done(502, message);
  }
}

function responseHeaders(headers: Record<string, string | string[] | undefined>): string[] {
  const out: string[] = [];
  for (const name in headers) {
    if (HOP_BY_HOP.has(name)) continue;
    const value = headers[name];
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) out.push(name, v);
    else out.push(name, value);
  }
  return out;
}

/** Keeps a streaming body's first REPLAY_LIMIT bytes, so the request can be sent again once. */
export class ReplayBuffer {
  private chunks: Buffer[] | undefined = [];
  private size = 0;
  private done: boolean;

  constructor(hasBody: boolean) {
    this.done = !hasBody;
  }

  tee(source: Readable): Readable {
    const copy = new PassThrough();
    source.on('data', (chunk: Buffer) => {
      if (this.chunks) {
        this.size += chunk.length;
        if (this.size <= REPLAY_LIMIT) this.chunks.push(chunk);
        else this.chunks = undefined;
      }
      if (!copy.write(chunk)) {
        source.pause();
        copy.once('drain', () => source.resume());
      }
    });
    source.once('end', () => {
      this.done = true;
      copy.end();
    });
    source.once('error', (err) => copy.destroy(err));
    return copy;
  }

  /** The whole body (empty when there was none), when it was fully read and small enough. */
  complete(): Buffer | undefined {
    return this.done && this.chunks ? Buffer.concat(this.chunks) : undefined;
  }
}
