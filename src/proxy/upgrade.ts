// Protocol upgrades (WebSocket) inside an intercepted tunnel, and the hook that relays them.
//
// THE HOOK. `startProxy({ upgrade })` takes an UpgradeHandler. When a request inside an intercepted
// tunnel carries `Upgrade` (anything but h2c), the tunnel stops parsing HTTP and calls the handler
// with an UpgradeContext: the client's TLS socket (now the handler's), the handshake head as
// received, the bytes the client already sent after it, and what the injection rule decided for it.
// The handler returns true when it takes the request, false to leave it to keygate, which answers
// 501 `keygate_upgrade_refused` and closes the connection. With no handler every upgrade is refused.
// An upgrade is never stripped and forwarded as a plain request (a "downgrade" would send a
// WebSocket client's GET upstream as an ordinary API call).
//
// A relay (e.g. Discord's gateway, which carries the token in IDENTIFY/RESUME frames rather than in
// a header) builds on `relayUpgrade`: it forwards the handshake with the credential placed as the
// rule says, passes the 101 back, then pipes the two sockets, optionally through a transform of the
// client's bytes. It must call `ctx.done(status)` exactly once (the request log), which relayUpgrade does.
import type { Duplex } from 'node:stream';
import type tls from 'node:tls';
import { type RequestHead, isHopByHop } from './http1.js';
import type { RequestLogEntry } from './log.js';
import type { InterceptedAuthority } from './request.js';
import type { ProxyErrorCode } from './responses.js';
import { type Decision, kindOf } from './rules.js';
import type { TokenAccess } from './tokens.js';

export interface UpgradeContext {
  /** The client's side of the tunnel, TLS terminated by keygate. The handler owns it from now on. */
  client: tls.TLSSocket;
  /** The handshake request as received (placeholders and all). */
  head: RequestHead;
  /** Its origin-form target, e.g. `/?v=10&encoding=json`. */
  target: string;
  authority: InterceptedAuthority;
  /** What the provider's injection rule decided for the handshake's credential header. */
  decision: Exclude<Decision, { action: 'refuse' }>;
  /** Bytes the client sent after the handshake head (normally none: it waits for the 101). */
  buffered: Buffer | undefined;
  tokens: TokenAccess;
  /** A new verified TLS connection to the tunnel's host, outside the pool. */
  connectUpstream(): Promise<tls.TLSSocket>;
  /** keygate's error answer to the handshake; closes the connection and logs the request. */
  refuse(status: number, code: ProxyErrorCode, message: string): void;
  /** Logs the handshake once (status 101 when it was switched); later calls do nothing. */
  done(status: number, error?: string): void;
  /** The log entry being built (`action` and `connection` may be set by the handler). */
  entry: RequestLogEntry;
}

/** Takes an upgrade request (returns true) or leaves it to keygate's refusal (false). */
export type UpgradeHandler = (ctx: UpgradeContext) => boolean;

/** True for an Upgrade keygate may ignore and serve as HTTP/1.1 (RFC 9113 §3.1: h2c is only an offer). */
export function ignorableUpgrade(upgrade: string): boolean {
  return upgrade.split(',').every((p) => p.trim().toLowerCase() === 'h2c');
}

export interface RelayOptions {
  /** Rewrites bytes from the client before they go upstream (a gateway relay swaps the token in here). */
  clientToUpstream?: (source: Duplex) => Duplex;
}

/**
 * Forwards the handshake upstream (hop-by-hop fields dropped, Upgrade and Connection: upgrade kept,
 * the credential in its header when the rule injects one), relays the server's answer, and on 101
 * pipes the two connections until either closes.
 */
export async function relayUpgrade(ctx: UpgradeContext, options: RelayOptions = {}): Promise<void> {
  const { head, decision, authority } = ctx;
  let credential: string | undefined;
  if (decision.action !== 'pass') {
    ctx.entry.action = 'injected';
    ctx.entry.connection = decision.credential.connection;
    try {
      credential = authority.rule.headerValue(
        await ctx.tokens.getToken(authority.rule.provider, decision.credential.connection),
        kindOf(decision.credential),
      );
      if (!/^[\t\x20-\x7e\x80-\xff]*$/.test(credential)) throw new Error('it holds characters a header cannot carry');
    } catch (err) {
      return ctx.refuse(
        502,
        'keygate_credential_unavailable',
        `no usable credential for ${authority.rule.provider}/${decision.credential.connection}: ${(err as Error).message}`,
      );
    }
  }
  let upstream: tls.TLSSocket;
  try {
    upstream = await ctx.connectUpstream();
  } catch (err) {
    return ctx.refuse(502, 'keygate_upstream_error', `could not reach ${authority.host}:${authority.port}: ${(err as Error).message}`);
  }
  if (ctx.client.destroyed) return void upstream.destroy();
  upstream.write(handshakeHead(head, ctx.target, decision, credential, authority), 'latin1');
  if (ctx.buffered) upstream.write(ctx.buffered);

  // The server's answer head decides: 101 switches, anything else is passed on and ends the tunnel.
  let answer = Buffer.alloc(0);
  const onHead = (chunk: Buffer): void => {
    answer = Buffer.concat([answer, chunk]);
    const end = answer.indexOf('\r\n\r\n');
    if (end === -1) {
      if (answer.length > 64 * 1024) fail('response head too large');
      return;
    }
    upstream.off('data', onHead);
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(answer.toString('latin1', 0, end))?.[1] ?? 0);
    ctx.client.write(answer);
    ctx.done(status);
    if (status !== 101) {
      upstream.destroy();
      ctx.client.end();
      return;
    }
    const fromClient = options.clientToUpstream ? ctx.client.pipe(options.clientToUpstream(ctx.client)) : ctx.client;
    fromClient.pipe(upstream);
    upstream.pipe(ctx.client);
  };
  const fail = (message: string): void => {
    upstream.destroy();
    ctx.refuse(502, 'keygate_upstream_error', message);
  };
  upstream.on('data', onHead);
  upstream.on('error', () => ctx.client.destroy());
  upstream.on('close', () => ctx.client.destroy());
  ctx.client.on('error', () => upstream.destroy());
  ctx.client.on('close', () => upstream.destroy());
}

/** The handshake as sent upstream: like forwardHead, but `Connection: upgrade` and `Upgrade` stay. */
export function handshakeHead(
  head: RequestHead,
  target: string,
  decision: Decision,
  credential: string | undefined,
  authority: InterceptedAuthority,
): string {
  let out = `${head.method} ${target} HTTP/1.1\r\n`;
  if (head.host === undefined) out += `Host: ${authority.port === 443 ? authority.host : `${authority.host}:${authority.port}`}\r\n`;
  const raw = head.rawHeaders;
  const replaceAt = decision.action === 'replace' ? decision.index : -1;
  for (let i = 0; i < raw.length; i += 2) {
    if (isHopByHop(raw[i].toLowerCase(), head.connectionTokens)) continue;
    out += `${raw[i]}: ${i + 1 === replaceAt ? credential! : raw[i + 1]}\r\n`;
  }
  if (decision.action === 'add') out += `${authority.rule.header}: ${credential!}\r\n`;
  return `${out}Connection: upgrade\r\nUpgrade: ${head.upgrade!}\r\n\r\n`;
}

/** keygate's answer when no handler takes an upgrade. */
export function refusalMessage(head: RequestHead, authority: InterceptedAuthority): string {
  return `keygate does not relay "Upgrade: ${head.upgrade}" to ${authority.host}; only HTTP requests are forwarded there`;
}
