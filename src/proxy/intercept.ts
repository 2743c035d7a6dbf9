// Requests inside an intercepted tunnel: read each request head, check it, apply the provider's
// injection rule, and forward it over a pooled, verified TLS connection to the CONNECT authority;
// the body and the response stream through as bytes (exchange.ts). One request at a time per
// tunnel, in order (pipelined requests wait their turn), connections kept alive on both sides.
import type tls from 'node:tls';
import type { TokenAccess } from './tokens.js';
import { type AttemptOutcome, REPLAY_LIMIT, UpstreamAttempt } from './exchange.js';
import { type BodyFramer, HeadReader, HttpParseError, MAX_HEAD_BYTES, type RequestHead, bodyFramer, parseRequestHead } from './http1.js';
import { type RequestLogEntry, redactPath } from './log.js';
import { type InterceptedAuthority, forwardHead, hostMatches, requestTarget } from './request.js';
import { type ProxyErrorCode, errorResponse } from './responses.js';
import { type Decision, kindOf } from './rules.js';
import { type UpgradeHandler, ignorableUpgrade, refusalMessage } from './upgrade.js';
import type { UpstreamConnection, UpstreamPool } from './upstream.js';
import { describeUpstreamError } from './upstream-errors.js';

export type { InterceptedAuthority } from './request.js';

export interface InterceptOptions {
  pool: UpstreamPool;
  tokens: TokenAccess;
  /** Takes WebSocket (and other) upgrades; without it, or when it declines, they get 501 (upgrade.ts). */
  upgrade?: UpgradeHandler;
  onRequest?: (entry: RequestLogEntry) => void;
  onNotice?: (message: string) => void;
}

/** A kept-alive client connection with no request for this long is closed. */
const KEEP_ALIVE_MS = 30_000;
/** RFC 9110 §9.2.2: these may be sent again when a reused connection fails before any answer. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);
/** What a header value may hold once the credential is in it (RFC 9110 §5.5); written as latin1. */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Serves HTTP/1.1 on `client`, the TLS connection keygate terminated for `authority`. */
export function serveTunnel(client: tls.TLSSocket, authority: InterceptedAuthority, options: InterceptOptions): void {
  new Tunnel(client, authority, options);
}

/** A request body as it streams from the client: where it ends, and a copy for a replay while it is small. */
class RequestBody {
  done: boolean;
  kept: Buffer[] | undefined = [];
  private size = 0;

  constructor(readonly framer: BodyFramer) {
    this.done = framer.done;
  }

  keep(bytes: Buffer): void {
    if (!this.kept) return;
    this.size += bytes.length;
    if (this.size <= REPLAY_LIMIT) this.kept.push(bytes);
    else this.kept = undefined;
  }
}

/** One request, from its head to the last byte of the answer. */
interface Exchange {
  head: RequestHead;
  entry: RequestLogEntry;
  started: number;
  body: RequestBody;
  attempt?: UpstreamAttempt;
  /** The head sent upstream (with the credential), kept for a retry. */
  upstreamHead?: string;
  token?: string;
  decision?: Decision;
  target?: string;
  retried: boolean;
  clientGone: boolean;
  logged: boolean;
}

class Tunnel {
  /** Bytes read from the client and not yet handled: the next head, body bytes, pipelined requests. */
  private readonly reader = new HeadReader(431);
  private current: Exchange | undefined;
  private closing = false;
  private clientEnded = false;
  private secured = false;

  constructor(
    private readonly client: tls.TLSSocket,
    private readonly authority: InterceptedAuthority,
    private readonly options: InterceptOptions,
  ) {
    // The handshake may have finished before this tunnel was served (server.ts loads this lazily).
    this.secured = client.getCipher() !== undefined;
    client.once('secure', () => (this.secured = true));
    client.on('data', this.listeners.data);
    client.on('end', this.listeners.end);
    client.on('error', this.listeners.error);
    client.on('close', this.listeners.close);
    client.setTimeout(KEEP_ALIVE_MS, this.listeners.timeout);
  }

  private readonly listeners = {
    data: (chunk: Buffer) => this.onData(chunk),
    end: () => this.onEnd(),
    error: (err: Error & { code?: string }) => this.onError(err),
    close: () => this.onClose(),
    timeout: () => {
      if (!this.current) this.client.destroy();
    },
  };

  /** An upgrade handshake: handed to the hook with the socket, or refused (501) when no hook takes it. */
  private upgrade(ex: Exchange, target: string, decision: Exclude<Decision, { action: 'refuse' }>): void {
    const handler = this.options.upgrade;
    const refuse = () => this.respondError(ex, 501, 'keygate_upgrade_refused', refusalMessage(ex.head, this.authority), true);
    if (!handler) return refuse();
    const client = this.client;
    // The tunnel stops reading HTTP: from here the bytes belong to the handler.
    this.closing = true;
    client.off('data', this.listeners.data);
    client.off('end', this.listeners.end);
    client.off('close', this.listeners.close);
    client.off('error', this.listeners.error);
    client.setTimeout(0);
    client.on('error', () => client.destroy());
    const buffered = this.reader.buffered;
    this.reader.buffered = undefined;
    this.current = undefined;
    const done = (status: number, error?: string) => {
      if (ex.logged) return;
      ex.logged = true;
      ex.entry.status = status;
      ex.entry.duration_ms = Math.round(performance.now() - ex.started);
      if (error) ex.entry.error = error;
      this.options.onRequest?.(ex.entry);
    };
    const { host, port } = this.authority;
    const taken = handler({
      client,
      head: ex.head,
      target,
      authority: this.authority,
      decision,
      buffered,
      tokens: this.options.tokens,
      entry: ex.entry,
      connectUpstream: () => this.options.pool.open(host, port),
      refuse: (status, code, message) => {
        if (code !== 'keygate_upstream_error') ex.entry.action = 'refused';
        if (!client.destroyed) client.end(errorResponse(status, code, message, true));
        done(status, message);
      },
      done,
    });
    if (!taken) {
      ex.entry.action = 'refused';
      const message = refusalMessage(ex.head, this.authority);
      client.end(errorResponse(501, 'keygate_upgrade_refused', message, true));
      done(501, message);
    }
  }

  private onData(chunk: Buffer): void {
    if (this.closing) return;
    const ex = this.current;
    if (ex?.attempt && !ex.body.done) return this.onBody(ex, chunk);
    this.reader.append(chunk);
    if (!ex) return this.nextRequest();
    // Pipelined requests (or a body arriving before the upstream connection is ready) wait.
    if (this.reader.buffered!.length > MAX_HEAD_BYTES) this.client.pause();
  }

  private nextRequest(): void {
    if (this.current || this.closing) return;
    let head: RequestHead;
    try {
      const text = this.reader.next();
      if (text === undefined) return;
      head = parseRequestHead(text);
    } catch (err) {
      return this.refuseMalformed(err);
    }
    const rule = this.authority.rule;
    const ex: Exchange = {
      head,
      started: performance.now(),
      entry: {
        time: new Date().toISOString(),
        method: head.method,
        host: this.authority.host,
        path: '',
        status: 0,
        provider: rule.provider,
        connection: null,
        duration_ms: 0,
        action: 'passed',
      },
      body: new RequestBody(bodyFramer(head.framing)),
      retried: false,
      clientGone: false,
      logged: false,
    };
    this.current = ex;
    this.handle(ex).catch(() => {
      // Only reached for bugs: every expected failure is answered inside handle().
      this.respondError(ex, 502, 'keygate_upstream_error', 'keygate failed to handle the request');
    });
  }

  private async handle(ex: Exchange): Promise<void> {
    const { head, entry } = ex;
    const { host, port, rule } = this.authority;
    if (head.method === 'CONNECT')
      return this.respondError(ex, 400, 'keygate_bad_request', 'CONNECT inside an intercepted tunnel is not supported', true);
    const target = requestTarget(head.target, this.authority);
    entry.path = redactPath(target ?? '/');
    if (target === undefined)
      return this.respondError(
        ex,
        421,
        'keygate_misdirected_request',
        `this tunnel goes to ${host}:${port}; the request names another host`,
      );
    if (!hostMatches(head.host, this.authority)) {
      return this.respondError(
        ex,
        421,
        'keygate_misdirected_request',
        `the Host header does not name ${host}, the host this tunnel was opened for`,
      );
    }
    const decision = rule.decide(target, head.rawHeaders, host);
    if (decision.action === 'refuse') return this.respondError(ex, 400, 'keygate_placeholder_refused', decision.reason);
    ex.decision = decision;
    ex.target = target;
    // Never downgraded: an upgrade is relayed by the hook or refused, not forwarded as plain HTTP.
    if (head.upgrade !== undefined && !ignorableUpgrade(head.upgrade)) return this.upgrade(ex, target, decision);

    let credential: string | undefined;
    if (decision.action !== 'pass') {
      entry.action = 'injected';
      entry.connection = decision.credential.connection;
      try {
        ex.token = await this.options.tokens.getToken(rule.provider, decision.credential.connection);
        credential = rule.headerValue(ex.token, kindOf(decision.credential));
        if (!HEADER_VALUE.test(credential)) throw new Error('it holds characters a header cannot carry');
      } catch (err) {
        entry.connection = null;
        const message = `no usable credential for ${rule.provider}/${decision.credential.connection}: ${(err as Error).message}`;
        return this.respondError(ex, 502, 'keygate_credential_unavailable', message);
      }
    }
    ex.upstreamHead = forwardHead(head, target, decision, credential, rule.header, this.authority);
    this.send(ex, false);
  }

  /** Sends the request upstream: a pooled connection unless `fresh`, or a new one. */
  private send(ex: Exchange, fresh: boolean): void {
    if (ex.clientGone) return;
    const { host, port } = this.authority;
    const pooled = fresh ? undefined : this.options.pool.take(host, port);
    if (pooled) return this.start(ex, pooled);
    this.options.pool.connect(host, port).then(
      (connection) => {
        if (ex.clientGone) return connection.destroy();
        this.start(ex, connection);
      },
      (err: unknown) => this.respondError(ex, 502, 'keygate_upstream_error', describeUpstreamError(err, host, port)),
    );
  }

  private start(ex: Exchange, connection: UpstreamConnection): void {
    const { head, body } = ex;
    // The body bytes read so far (on a replay or retry: the whole kept body).
    let bytes: Buffer | undefined;
    if (ex.attempt) {
      bytes = body.kept!.length > 0 ? Buffer.concat(body.kept!) : undefined;
    } else if (!body.done && this.reader.buffered) {
      const pending = this.reader.buffered;
      let end: number;
      try {
        end = body.framer.feed(pending, 0);
      } catch (err) {
        this.options.pool.release(connection);
        return this.respondError(
          ex,
          (err as HttpParseError).status ?? 400,
          'keygate_bad_request',
          `malformed request body: ${(err as Error).message}`,
        );
      }
      bytes = end === -1 ? pending : pending.subarray(0, end);
      this.reader.buffered = end === -1 ? undefined : pending.subarray(end);
      body.keep(bytes);
      if (end !== -1) body.done = true;
    }
    const attempt = new UpstreamAttempt(
      connection,
      this.client,
      {
        method: head.method,
        keepAlive: head.keepAlive && !this.clientEnded,
        http11: head.minor === 1,
        holdUnauthorized: () => ex.token !== undefined && ex.entry.action === 'injected' && body.done && body.kept !== undefined,
        bodyDone: () => body.done,
        expectContinue: head.expectContinue,
      },
      (outcome) => this.settle(ex, attempt, outcome),
    );
    ex.attempt = attempt;
    const headBytes = ex.upstreamHead!;
    // One write for the head and the body bytes at hand: one TLS record, one syscall.
    // Expect: 100-continue went upstream with the head; the server's 100 (or its final answer)
    // tells the client whether to send the body (RFC 9110 §10.1.1).
    attempt.write(bytes ? Buffer.concat([Buffer.from(headBytes, 'latin1'), bytes]) : headBytes, this.client);
    if (this.client.isPaused()) this.client.resume();
  }

  private onBody(ex: Exchange, chunk: Buffer): void {
    const body = ex.body;
    let end: number;
    try {
      end = body.framer.feed(chunk, 0);
    } catch (err) {
      ex.attempt!.abort();
      return this.respondError(
        ex,
        (err as HttpParseError).status ?? 400,
        'keygate_bad_request',
        `malformed request body: ${(err as Error).message}`,
      );
    }
    const piece = end === -1 ? chunk : chunk.subarray(0, end);
    body.keep(piece);
    if (end !== -1) {
      body.done = true;
      if (end < chunk.length) this.reader.buffered = chunk.subarray(end);
    }
    if (piece.length > 0) ex.attempt!.write(piece, this.client);
  }

  private settle(ex: Exchange, attempt: UpstreamAttempt, outcome: AttemptOutcome): void {
    const { host, port, rule } = this.authority;
    if (outcome.kind !== 'error') {
      if (outcome.reusable) this.options.pool.release(attempt.connection, outcome.keepAliveMs);
      if (outcome.kind === 'response') return this.finish(ex, outcome.status, undefined, outcome.closeClient);
      // A held 401 to a request that carried keygate's credential: one refresh, one replay.
      const held = outcome;
      const decision = ex.decision as Extract<Decision, { credential: unknown }>;
      void this.options.tokens
        .onUnauthorized(rule.provider, decision.credential.connection, ex.token!)
        .catch(() => undefined)
        .then((next) => {
          if (ex.clientGone) return this.finish(ex, 499, 'client closed the connection', true);
          const credential = next === undefined || next === ex.token ? undefined : rule.headerValue(next, kindOf(decision.credential));
          if (credential !== undefined && HEADER_VALUE.test(credential)) {
            ex.entry.action = 'replayed';
            ex.token = next;
            ex.upstreamHead = forwardHead(ex.head, ex.target!, decision, credential, rule.header, this.authority);
            return this.send(ex, false);
          }
          for (const bytes of held.bytes) this.client.write(bytes);
          this.finish(ex, held.status, undefined, held.closeClient);
        });
      return;
    }
    if (ex.clientGone) return this.finish(ex, 499, 'client closed the connection', true);
    // A kept-alive connection the server closed just as it was reused: send once more on a new one.
    if (
      !outcome.responseStarted &&
      attempt.connection.reused &&
      !ex.retried &&
      IDEMPOTENT.has(ex.head.method) &&
      ex.body.done &&
      ex.body.kept
    ) {
      ex.retried = true;
      return this.send(ex, true);
    }
    const message = describeUpstreamError(outcome.error, host, port);
    if (outcome.clientStarted) {
      // The answer is half sent: cutting the connection is the only honest signal left.
      this.client.destroy();
      return this.finish(ex, outcome.status ?? 502, message, true);
    }
    this.respondError(ex, 502, 'keygate_upstream_error', message);
  }

  /** keygate's own answer to the current request; the connection closes if its body was not read. */
  private respondError(ex: Exchange, status: number, code: ProxyErrorCode, message: string, close = false): void {
    if (this.current !== ex || ex.logged) return;
    // keygate refused the request; an upstream failure keeps what keygate did (injected, passed, replayed).
    if (code !== 'keygate_upstream_error') ex.entry.action = 'refused';
    close ||= !ex.body.done || !ex.head.keepAlive || this.clientEnded;
    if (!this.client.destroyed) this.client.write(errorResponse(status, code, message, close));
    this.finish(ex, status, message, close);
  }

  /** The exchange is over: log it, then read the next request or close. */
  private finish(ex: Exchange, status: number, error: string | undefined, close: boolean): void {
    if (ex.logged) return;
    ex.logged = true;
    const entry = ex.entry;
    entry.status = status;
    entry.duration_ms = Math.round(performance.now() - ex.started);
    if (error) entry.error = error;
    this.options.onRequest?.(entry);
    if (this.current !== ex) return;
    this.current = undefined;
    if (close || this.clientEnded) {
      this.closing = true;
      this.client.end();
      return;
    }
    if (this.client.isPaused()) this.client.resume();
    this.nextRequest();
  }

  /** A request keygate cannot parse: 400 (or 417, 431, 505), and the connection closes. */
  private refuseMalformed(err: unknown): void {
    if (!(err instanceof HttpParseError)) throw err;
    this.closing = true;
    this.client.end(errorResponse(err.status, 'keygate_bad_request', `malformed HTTP request: ${err.message}`, true));
  }

  private onEnd(): void {
    this.clientEnded = true;
    const ex = this.current;
    if (!ex) return void this.client.end();
    // The client stopped sending in the middle of a request body: it cannot be completed.
    if (ex.attempt && !ex.body.done) {
      ex.clientGone = true;
      ex.attempt.abort();
      this.finish(ex, 499, 'client closed the connection', true);
    }
  }

  private onClose(): void {
    this.closing = true;
    const ex = this.current;
    if (!ex) return;
    ex.clientGone = true;
    ex.attempt?.abort();
    this.finish(ex, 499, 'client closed the connection', true);
  }

  private onError(err: Error & { code?: string }): void {
    if (!this.secured && err.code !== 'ECONNRESET' && /SSL|TLS|certificate|alert/i.test(`${err.code} ${err.message}`)) {
      this.options.onNotice?.(`a client's TLS handshake with keygate failed (${err.code ?? err.message}); does it trust keygate's CA?`);
    }
    this.client.destroy();
  }
}
