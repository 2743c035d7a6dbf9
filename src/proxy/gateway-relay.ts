// The Discord gateway relay itself (loaded on the first gateway upgrade, so `keygate run` starts
// without the WebSocket library). See gateway.ts for what is relayed and why.
import type { IncomingMessage } from 'node:http';
import type tls from 'node:tls';
import zlib from 'node:zlib';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { GatewayHosts, GatewayUpgrade } from './gateway.js';
import { PLACEHOLDER_PREFIX, kindOf } from './rules.js';

/** Discord's gateway opcodes that carry the token. */
const IDENTIFY = 2;
const RESUME = 6;
/** The end of every zlib-stream message (a Z_SYNC_FLUSH). */
const ZLIB_SUFFIX = 0x0000ffff;
/** Request headers passed on to the gateway; ws writes the handshake's own fields itself. */
const FORWARDED = new Set(['user-agent', 'origin', 'sec-websocket-protocol', 'accept-language']);
/** Close codes an endpoint may send (RFC 6455 §7.4): others (1005, 1006, 1015) only describe what happened. */
const sendable = (code: number): boolean =>
  code === 1000 || (code >= 1001 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);

const server = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 16 * 1024 * 1024 });

/** Relays one gateway WebSocket (the caller has checked the host). */
export async function relayGateway(ctx: GatewayUpgrade, hosts: GatewayHosts): Promise<void> {
  const headers = headerMap(ctx.head.rawHeaders);
  if (ctx.head.method !== 'GET' || (headers.upgrade ?? '').toLowerCase() !== 'websocket' || !headers['sec-websocket-key']) {
    return ctx.refuse(400, 'keygate_bad_request', `keygate relays only WebSocket upgrades on ${ctx.authority.host}`);
  }
  let socket: tls.TLSSocket;
  try {
    socket = await ctx.connectUpstream();
  } catch (err) {
    return ctx.refuse(502, 'keygate_upstream_error', `could not reach ${ctx.authority.host}: ${(err as Error).message}`);
  }
  if (ctx.client.destroyed) return void socket.destroy();
  const forwarded: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (FORWARDED.has(name)) forwarded[name] = value;
  const protocols = forwarded['sec-websocket-protocol']?.split(',').map((p) => p.trim());
  delete forwarded['sec-websocket-protocol'];
  const upstream = new WebSocket(`wss://${ctx.authority.host}${ctx.target}`, protocols ?? [], {
    createConnection: () => socket,
    perMessageDeflate: false,
    headers: forwarded,
    handshakeTimeout: 15_000,
    maxPayload: 16 * 1024 * 1024,
  });
  const early: Array<[RawData, boolean]> = [];
  const watcher = new ReadyWatcher(ctx.target, hosts);
  upstream.on('message', (data, isBinary) => {
    watcher.see(data, isBinary);
    early.push([data, isBinary]);
  });
  upstream.once('unexpected-response', (_req, res) => {
    upstream.terminate();
    ctx.refuse(502, 'keygate_upstream_error', `${ctx.authority.host} answered the WebSocket handshake with HTTP ${res.statusCode}`);
  });
  upstream.once('error', (err) => {
    if (upstream.readyState === WebSocket.CONNECTING || upstream.readyState === WebSocket.CLOSED) {
      ctx.refuse(502, 'keygate_upstream_error', `the WebSocket handshake with ${ctx.authority.host} failed: ${err.message}`);
    }
  });
  upstream.once('open', () => {
    const request = { method: 'GET', url: ctx.target, headers } as unknown as IncomingMessage;
    // ws answers a malformed client handshake with 400 itself and never calls back: drop upstream then.
    let accepted = false;
    ctx.client.once('close', () => {
      if (accepted) return;
      upstream.terminate();
      ctx.done(400, 'the client’s WebSocket handshake was refused');
    });
    server.handleUpgrade(request, ctx.client, ctx.buffered ?? Buffer.alloc(0), (client) => {
      accepted = true;
      const bots = ctx.authority.rule.credentials.filter((c) => kindOf(c) === 'bot');
      ctx.entry.action = 'relayed';
      if (bots.length === 1) ctx.entry.connection = bots[0].connection;
      ctx.done(101);
      pipe(ctx, hosts, client, upstream, early, watcher);
    });
  });
}

function pipe(
  ctx: GatewayUpgrade,
  hosts: GatewayHosts,
  client: WebSocket,
  upstream: WebSocket,
  early: Array<[RawData, boolean]>,
  watcher: ReadyWatcher,
): void {
  upstream.removeAllListeners('message');
  for (const [data, isBinary] of early) client.send(data, { binary: isBinary });
  upstream.on('message', (data, isBinary) => {
    watcher.see(data, isBinary);
    if (client.readyState === WebSocket.OPEN) client.send(data, { binary: isBinary });
  });
  // Messages are handled in order: a token lookup must not let a later message overtake IDENTIFY.
  let queue = Promise.resolve();
  client.on('message', (data, isBinary) => {
    queue = queue.then(async () => {
      const out = await fromClient(ctx, hosts, data, isBinary);
      if (out === undefined) return closeBoth(client, upstream, 4004, 'Authentication failed.');
      if (upstream.readyState === WebSocket.OPEN) upstream.send(out, { binary: isBinary });
    });
  });
  client.on('close', (code, reason) => closeOther(upstream, code, reason));
  upstream.on('close', (code, reason) => closeOther(client, code, reason));
  client.on('error', () => upstream.terminate());
  upstream.on('error', () => client.terminate());
}

/**
 * The client's message as it goes upstream: unchanged, or with the bot placeholder in an
 * IDENTIFY/RESUME token replaced by the real token (by text replacement, so nothing else in the
 * payload changes). Undefined: the message carries a placeholder somewhere keygate will not send it.
 */
async function fromClient(ctx: GatewayUpgrade, hosts: GatewayHosts, data: RawData, isBinary: boolean): Promise<RawData | undefined> {
  const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
  if (!bytes.includes(PLACEHOLDER_PREFIX)) return data;
  if (isBinary) return undefined;
  const text = bytes.toString('utf8');
  let payload: { op?: unknown; d?: { token?: unknown } };
  try {
    payload = JSON.parse(text) as typeof payload;
  } catch {
    return undefined;
  }
  const token = payload.d?.token;
  if ((payload.op !== IDENTIFY && payload.op !== RESUME) || typeof token !== 'string') return undefined;
  const rule = ctx.authority.rule;
  const credential = rule.credentials.find((c) => token.includes(c.placeholder));
  // Exactly once in the whole message, and that is inside d.token.
  if (!credential || kindOf(credential) !== 'bot' || text.split(credential.placeholder).length !== 2) return undefined;
  // The gateway host (or the configured host a resume host was learned under) must be one the bot
  // token was bound to at login: a provider file edited since cannot move the token elsewhere.
  if (!hosts.boundTo(credential, ctx.authority.host)) return undefined;
  let real: string;
  try {
    real = await ctx.tokens.getToken(rule.provider, credential.connection);
  } catch {
    return undefined;
  }
  return Buffer.from(text.replace(credential.placeholder, real), 'utf8');
}

function closeBoth(client: WebSocket, upstream: WebSocket, code: number, reason: string): void {
  upstream.terminate();
  client.close(code, reason);
}

function closeOther(other: WebSocket, code: number, reason: Buffer): void {
  if (other.readyState === WebSocket.CLOSED || other.readyState === WebSocket.CLOSING) return;
  if (sendable(code)) other.close(code, reason);
  else other.close();
}

/**
 * Reads the server's messages until READY, to learn its resume_gateway_url. A zlib-stream connection
 * is inflated on a copy (what the client gets is the original bytes). Stops once READY was seen.
 */
class ReadyWatcher {
  private inflate: zlib.Inflate | undefined;
  private pending: Buffer[] = [];
  private done = false;

  constructor(
    target: string,
    private readonly hosts: GatewayHosts,
  ) {
    const query = new URLSearchParams(target.split('?')[1] ?? '');
    if (query.get('compress') === 'zlib-stream') this.inflate = zlib.createInflate();
  }

  see(data: RawData, isBinary: boolean): void {
    if (this.done) return;
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    if (!isBinary) return this.read(bytes.toString('utf8'));
    const inflate = this.inflate;
    if (!inflate) return;
    this.pending.push(bytes);
    if (bytes.length < 4 || bytes.readUInt32BE(bytes.length - 4) !== ZLIB_SUFFIX) return;
    const whole = Buffer.concat(this.pending);
    this.pending = [];
    inflate.write(whole);
    inflate.flush(zlib.constants.Z_SYNC_FLUSH, () => {
      const out = inflate.read() as Buffer | null;
      if (out) this.read(out.toString('utf8'));
    });
  }

  private read(text: string): void {
    if (!text.includes('"READY"')) return;
    try {
      const payload = JSON.parse(text) as { t?: unknown; d?: { resume_gateway_url?: unknown } };
      if (payload.t !== 'READY') return;
      this.hosts.learn(payload.d?.resume_gateway_url);
      this.done = true;
      this.inflate?.close();
      this.inflate = undefined;
    } catch {
      // Not JSON: nothing to learn.
    }
  }
}

function headerMap(raw: readonly string[]): Record<string, string> {
  const map: Record<string, string> = {};
  for (let i = 0; i < raw.length; i += 2) map[raw[i].toLowerCase()] = raw[i + 1]!;
  return map;
}
