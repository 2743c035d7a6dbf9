// The proxy a `keygate run` child talks to: 127.0.0.1, a random port, this run's credentials on
// every request. CONNECT to a provider API host is intercepted (TLS terminated with a leaf from
// keygate's CA, requests forwarded by intercept.ts); CONNECT to anything else is a blind tunnel;
// plain HTTP goes to plain.ts.
import http from 'node:http';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { ProviderError } from '../errors.js';
import { type ConnectTarget, parseConnectTo, resolveTarget } from '../net.js';
import { type ProxyCredentials, createProxyCredentials } from './auth.js';
import type { ProxyCa } from './ca.js';
import type * as Handlers from './handlers.js';
import type { RequestLogEntry } from './log.js';
import type { PlainForwarder } from './plain.js';
import { sendError, sendRawError } from './responses.js';
import type { InjectionRule } from './rules.js';
import type { TokenAccess } from './tokens.js';
import type { UpgradeHandler } from './upgrade.js';

export interface ProxyOptions {
  /** One rule per provider in the run; their hosts are the intercepted ones. */
  rules: InjectionRule[];
  ca: ProxyCa;
  tokens: TokenAccess;
  /** Reads KEYGATE_CONNECT_TO from it. Default: process.env. */
  env?: NodeJS.ProcessEnv;
  /** Extra CA certificates (PEM) trusted for upstream TLS, on top of the default store (tests). */
  upstreamCa?: string[];
  /** Called once per request to a provider host, after the response (for the log and --verbose). */
  onRequest?: (entry: RequestLogEntry) => void;
  /** Things worth telling a --verbose user, e.g. a client that rejected keygate's certificate. */
  onNotice?: (message: string) => void;
  /** Default: fresh random credentials. */
  credentials?: ProxyCredentials;
  /** Relays WebSocket upgrades to intercepted hosts (see upgrade.ts); without it they are refused with 501. */
  upgrade?: UpgradeHandler;
  /**
   * Hosts that became intercepted after start (a gateway's resume host, learned from READY): the
   * rule for such a host, or undefined. Their certificates are issued on their first CONNECT.
   */
  lateRule?: (host: string) => InjectionRule | undefined;
}

export interface RunningProxy {
  readonly port: number;
  readonly credentials: ProxyCredentials;
  /** http://keygate:<password>@127.0.0.1:<port>, for HTTPS_PROXY. */
  readonly url: string;
  readonly interceptedHosts: readonly string[];
  /** Stops listening, drops every connection and the upstream pool. */
  close(): Promise<void>;
}

const KEEP_ALIVE_MS = 30_000;
/** The request path loads this long after start unless a request asks for it first. */
const WARM_UP_MS = 50;

interface Serving {
  handlers: typeof Handlers;
  pool: Handlers.UpstreamPool;
  plain: PlainForwarder;
}

export async function startProxy(options: ProxyOptions): Promise<RunningProxy> {
  const env = options.env ?? process.env;
  const credentials = options.credentials ?? createProxyCredentials();
  const connectTo = parseConnectTo(env.KEYGATE_CONNECT_TO);
  const rules = hostRules(options.rules);

  // Every leaf is ready before the first client connects: no certificate work on any request.
  const contexts = new Map<string, tls.SecureContext>();
  await Promise.all(
    [...rules.keys()].map(async (host) => {
      const leaf = await options.ca.leaf(host);
      // `ca: []`: a server context needs no trusted roots, and without it Node parses its whole
      // root store (~25-45 ms of start-up) for nothing.
      contexts.set(host, tls.createSecureContext({ cert: leaf.certPem, key: leaf.keyPem, ca: [], minVersion: 'TLSv1.2' }));
    }),
  );

  // The request path (seven modules) loads on the first request or WARM_UP_MS after start: the
  // child starts ~10 ms sooner, and a child is rarely that quick to send its first request.
  let serving: Promise<Serving> | undefined;
  const serve = (): Promise<Serving> =>
    (serving ??= import('./handlers.js').then((handlers) => ({
      handlers,
      pool: new handlers.UpstreamPool(connectTo, options.upstreamCa),
      plain: handlers.createPlainForwarder({ connectTo, isProviderHost: (host) => rules.has(host) }),
    })));
  // Warming up also builds the upstream trust store (all of Node's roots: ~25-45 ms of CPU) before
  // the first request needs it.
  const warmUp = setTimeout(
    () =>
      void serve().then(
        ({ pool }) => setImmediate(() => pool.warm()),
        () => undefined,
      ),
    WARM_UP_MS,
  ).unref();
  const loadFailed = (): string => 'keygate could not load its request handling';

  const sockets = new Set<net.Socket | tls.TLSSocket>();
  const track = (socket: net.Socket | tls.TLSSocket): void => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };

  const front = http.createServer({ requireHostHeader: false, keepAliveTimeout: KEEP_ALIVE_MS });
  front.on('connection', track);
  front.on('clientError', (err, socket) => answerClientError(err, socket));
  const forwardPlain = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    serve().then(
      ({ plain }) => plain.handle(req, res),
      () => sendError(res, 502, 'keygate_upstream_error', loadFailed()),
    );
  };
  front.on('request', (req, res) => {
    if (!credentials.check(req.headers['proxy-authorization'])) return refuseAuth(res);
    forwardPlain(req, res);
  });
  front.on('checkContinue', (req, res) => {
    if (!credentials.check(req.headers['proxy-authorization'])) return refuseAuth(res);
    res.writeContinue();
    forwardPlain(req, res);
  });
  front.on('connect', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    if (!credentials.check(req.headers['proxy-authorization'])) {
      return sendRawError(socket, 407, 'keygate_proxy_auth_required', 'this proxy needs the credentials in HTTPS_PROXY');
    }
    const authority = parseAuthority(req.url ?? '');
    if (!authority) return sendRawError(socket, 400, 'keygate_bad_request', 'CONNECT needs a host:port target');
    const rule = rules.get(authority.host) ?? options.lateRule?.(authority.host);
    if (!rule) {
      const target = resolveTarget(connectTo, authority.host, authority.port);
      serve().then(
        ({ handlers }) => handlers.openTunnel(socket, head, authority, target, track),
        () => sendRawError(socket, 502, 'keygate_upstream_error', loadFailed()),
      );
      return;
    }

    const context = contexts.get(authority.host);
    if (context) return intercept(socket, head, authority, rule, context);
    options.ca.leaf(authority.host).then(
      (leaf) => {
        const late = tls.createSecureContext({ cert: leaf.certPem, key: leaf.keyPem, ca: [], minVersion: 'TLSv1.2' });
        contexts.set(authority.host, late);
        intercept(socket, head, authority, rule, late);
      },
      (err: Error) => sendRawError(socket, 502, 'keygate_upstream_error', `keygate cannot intercept ${authority.host}: ${err.message}`),
    );
  });

  function intercept(socket: Duplex, head: Buffer, authority: ConnectTarget, rule: InjectionRule, context: tls.SecureContext): void {
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) socket.unshift(head);
    (socket as net.Socket).setNoDelay(true);
    // The handshake proceeds at once; request bytes wait in the TLS socket until it is served.
    const secure = new tls.TLSSocket(socket, { isServer: true, secureContext: context, ALPNProtocols: ['http/1.1'] });
    track(secure);
    serve().then(
      ({ handlers, pool }) =>
        handlers.serveTunnel(
          secure,
          { ...authority, rule },
          { pool, tokens: options.tokens, upgrade: options.upgrade, onRequest: options.onRequest, onNotice: options.onNotice },
        ),
      () => secure.destroy(),
    );
  }

  await new Promise<void>((resolve, reject) => {
    front.once('error', reject);
    front.listen(0, '127.0.0.1', () => {
      front.off('error', reject);
      resolve();
    });
  });
  const port = (front.address() as net.AddressInfo).port;

  return {
    port,
    credentials,
    url: `http://${credentials.username}:${encodeURIComponent(credentials.password)}@127.0.0.1:${port}`,
    interceptedHosts: [...rules.keys()],
    async close() {
      clearTimeout(warmUp);
      const closed = new Promise<void>((resolve) => front.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      const stopped = serving?.then(
        ({ plain, pool }) => {
          plain.close();
          pool.close();
        },
        () => undefined,
      );
      await Promise.all([closed, stopped]);
    },
  };

  function refuseAuth(res: http.ServerResponse): void {
    sendError(res, 407, 'keygate_proxy_auth_required', 'this proxy needs the credentials in HTTPS_PROXY');
  }
}

function hostRules(rules: InjectionRule[]): Map<string, InjectionRule> {
  const map = new Map<string, InjectionRule>();
  for (const rule of rules) {
    for (const host of rule.hosts) {
      const other = map.get(host);
      if (other && other !== rule) {
        throw new ProviderError(`providers ${other.provider} and ${rule.provider} both claim API host ${host}`, {
          hint: 'run only one of them (--connection), or fix api.hosts in their provider files',
        });
      }
      map.set(host, rule);
    }
  }
  return map;
}

/** host:port from a CONNECT line, lower-cased and without a trailing dot (so `Discord.com.` is still intercepted). */
export function parseAuthority(value: string): ConnectTarget | undefined {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]/\s]+):(\d{1,5})$/.exec(value);
  if (!match) return undefined;
  const port = Number(match[2]);
  if (port < 1 || port > 65535) return undefined;
  const host = match[1]
    .replace(/^\[|\]$/g, '')
    .toLowerCase()
    .replace(/\.$/, '');
  return host === '' ? undefined : { host, port };
}

function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  if (err.code?.startsWith('HPE_')) {
    // Malformed HTTP, including header values with CR or LF: refused before anything is forwarded.
    return sendRawError(socket, 400, 'keygate_bad_request', `malformed HTTP request (${err.code})`);
  }
  // This server speaks plain HTTP (CONNECT and absolute-URI requests); TLS problems of intercepted
  // tunnels are reported where their TLS lives, in intercept.ts.
  socket.destroy();
}
