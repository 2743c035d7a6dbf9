// The proxy a `keygate run` child talks to: 127.0.0.1, a random port, this run's credentials on
// every request. CONNECT to a provider API host is intercepted (TLS terminated with a leaf from
// keygate's CA, requests parsed by a node http.Server and forwarded by intercept.ts); CONNECT to
// anything else is a blind tunnel; plain HTTP goes to plain.ts.
import http from 'node:http';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { ProviderError } from '../errors.js';
import { type ConnectTarget, createDispatcher, parseConnectTo, resolveTarget } from '../net.js';
import type { TokenAccess } from '../run/credentials.js';
import { type ProxyCredentials, createProxyCredentials } from './auth.js';
import type { ProxyCa } from './ca.js';
import { type InterceptedAuthority, createInterceptHandler } from './intercept.js';
import type { RequestLogEntry } from './log.js';
import { createPlainForwarder } from './plain.js';
import { sendError, sendRawError } from './responses.js';
import type { InjectionRule } from './rules.js';
import { openTunnel } from './tunnel.js';

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
      contexts.set(host, tls.createSecureContext({ cert: leaf.certPem, key: leaf.keyPem, minVersion: 'TLSv1.2' }));
    }),
  );

  const dispatcher = createDispatcher({ env, ca: options.upstreamCa, headersTimeoutMs: 300_000, bodyTimeoutMs: 300_000 });
  const sockets = new Set<net.Socket | tls.TLSSocket>();
  const track = (socket: net.Socket | tls.TLSSocket): void => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };

  const intercept = createInterceptHandler({ dispatcher, tokens: options.tokens, onRequest: options.onRequest });
  const authorities = new WeakMap<object, InterceptedAuthority>();
  const inner = http.createServer({ requireHostHeader: false, keepAliveTimeout: KEEP_ALIVE_MS }, (req, res) => {
    intercept(req, res, authorities.get(req.socket)!);
  });
  inner.on('clientError', (err, socket) => answerClientError(err, socket, options.onNotice));

  const plain = createPlainForwarder({ connectTo, isProviderHost: (host) => rules.has(host) });
  const front = http.createServer({ requireHostHeader: false, keepAliveTimeout: KEEP_ALIVE_MS });
  front.on('connection', track);
  front.on('clientError', (err, socket) => answerClientError(err, socket, options.onNotice));
  front.on('request', (req, res) => {
    if (!credentials.check(req.headers['proxy-authorization'])) return refuseAuth(res);
    plain.handle(req, res);
  });
  front.on('checkContinue', (req, res) => {
    if (!credentials.check(req.headers['proxy-authorization'])) return refuseAuth(res);
    res.writeContinue();
    plain.handle(req, res);
  });
  front.on('connect', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    if (!credentials.check(req.headers['proxy-authorization'])) {
      return sendRawError(socket, 407, 'keygate_proxy_auth_required', 'this proxy needs the credentials in HTTPS_PROXY');
    }
    const authority = parseAuthority(req.url ?? '');
    if (!authority) return sendRawError(socket, 400, 'keygate_bad_request', 'CONNECT needs a host:port target');
    const rule = rules.get(authority.host);
    if (!rule) return openTunnel(socket, head, authority, resolveTarget(connectTo, authority.host, authority.port), track);

    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) socket.unshift(head);
    const secure = new tls.TLSSocket(socket as net.Socket, { isServer: true, secureContext: contexts.get(authority.host)!, ALPNProtocols: ['http/1.1'] });
    secure.setNoDelay?.(true);
    track(secure);
    authorities.set(secure, { ...authority, origin: `https://${authority.host}:${authority.port}`, rule });
    inner.emit('connection', secure);
  });

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
      const closed = new Promise<void>((resolve) => front.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      plain.close();
      await Promise.all([closed, dispatcher.destroy()]);
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
  const host = match[1]!.replace(/^\[|\]$/g, '').toLowerCase().replace(/\.$/, '');
  return host === '' ? undefined : { host, port };
}

function answerClientError(err: Error & { code?: string }, socket: Duplex, onNotice?: (message: string) => void): void {
  if (err.code?.startsWith('HPE_')) {
    // Malformed HTTP, including header values with CR or LF: refused before anything is forwarded.
    return sendRawError(socket, 400, 'keygate_bad_request', `malformed HTTP request (${err.code})`);
  }
  if (err.code !== 'ECONNRESET' && /SSL|TLS|certificate|alert/i.test(`${err.code} ${err.message}`)) {
    onNotice?.(`a client's TLS handshake with keygate failed (${err.code ?? err.message}); does it trust keygate's CA?`);
  }
  socket.destroy();
}
