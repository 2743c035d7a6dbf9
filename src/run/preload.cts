// Preloaded into Node children of `keygate run` (NODE_OPTIONS=--require). Node ignores HTTPS_PROXY
// (before 24's opt-in NODE_USE_ENV_PROXY), so without this a Node client would go straight to DNS
// and reach the provider with only the placeholder. Three things, each paid for only when used:
// - https: every https.Agent (the global one that https.get, got and node-fetch use, and any other)
//   opens its connections through a CONNECT tunnel to the proxy; a request that brings its own
//   createConnection and no agent (the `ws` client) is tunnelled too. NO_PROXY is honoured.
// - fetch: Node's global fetch (and undici's) uses an undici EnvHttpProxyAgent, built on first use
//   (loading undici costs ~100 ms, so a child that never fetches pays nothing).
// - trust: keygate's CA ($KEYGATE_CA_CERT) is added to TLS contexts built with the default roots,
//   when the first one is built. NODE_EXTRA_CA_CERTS would instead make every `node` the agent
//   starts parse the whole root store at start-up (~15 ms), TLS or not.
// Compiled to preload.cjs next to the run code.
import fs = require('node:fs');
import http = require('node:http');
import https = require('node:https');
import type net = require('node:net');
import tls = require('node:tls');

const proxy = parseProxy(process.env.HTTPS_PROXY ?? process.env.https_proxy);
const noProxy = (process.env.NO_PROXY ?? process.env.no_proxy ?? '').split(/[,\s]+/).filter((e) => e !== '');

function parseProxy(value: string | undefined): { host: string; port: number; auth: string | undefined } | undefined {
  if (!value) return undefined;
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:') return undefined;
    const auth = url.username
      ? `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`
      : undefined;
    return { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 80), auth };
  } catch {
    return undefined;
  }
}

/** NO_PROXY as curl and undici read it: `*`, a host, or a domain suffix (`.example.com`, `example.com`), with an optional port. */
function bypass(host: string, port: number): boolean {
  const name = host
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
  return noProxy.some((entry) => {
    if (entry === '*') return true;
    const match = /^(.*?)(?::(\d+))?$/.exec(entry.toLowerCase())!;
    if (match[2] && Number(match[2]) !== port) return false;
    const domain = match[1].replace(/^\*?\./, '').replace(/^\[|\]$/g, '');
    return name === domain || name.endsWith(`.${domain}`);
  });
}

type Callback = (err: Error | null, socket?: net.Socket) => void;

/** A CONNECT tunnel to host:port through the proxy; `callback` gets the raw socket. */
function tunnel(host: string, port: number, callback: Callback): void {
  const authority = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const headers: Record<string, string> = { host: authority };
  if (proxy!.auth) headers['proxy-authorization'] = proxy!.auth;
  const req = http.request({
    host: proxy!.host,
    port: proxy!.port,
    method: 'CONNECT',
    path: authority,
    headers,
    agent: false,
    setHost: false,
  });
  req.once('connect', (res, socket, head) => {
    if (res.statusCode !== 200) {
      socket.destroy();
      return callback(new Error(`the keygate proxy answered ${res.statusCode} to CONNECT ${authority}`));
    }
    if (head.length > 0) socket.unshift(head);
    callback(null, socket);
  });
  req.once('error', (err) => callback(err));
  req.end();
}

function proxied(host: unknown, port: number): host is string {
  return proxy !== undefined && typeof host === 'string' && host !== '' && !bypass(host, port);
}

interface ConnectOptions {
  host?: string;
  hostname?: string;
  port?: number | string;
  socket?: unknown;
  createConnection?: (options: ConnectOptions, callback?: Callback) => net.Socket | undefined;
  agent?: unknown;
}

if (proxy) {
  // Every https.Agent: its TLS goes over a tunnel instead of a direct TCP connection.
  type CreateConnection = (this: https.Agent, options: ConnectOptions, callback?: Callback) => net.Socket | undefined;
  const agentProto = https.Agent.prototype as unknown as { createConnection: CreateConnection };
  const direct = agentProto.createConnection;
  agentProto.createConnection = function (options, callback) {
    const host = options.host ?? options.hostname;
    const port = Number(options.port) || 443;
    if (options.socket || !callback || !proxied(host, port)) return direct.call(this, options, callback);
    tunnel(host, port, (err, socket) => (err ? callback(err) : callback(null, direct.call(this, { ...options, socket }))));
    return undefined;
  };

  // A request with its own createConnection and no agent (ws): tunnel, then hand it the socket.
  const viaTunnel = (args: unknown[]): unknown[] => {
    const at = args.findIndex((a) => a !== null && typeof a === 'object' && !(a instanceof URL));
    const options = args[at] as ConnectOptions | undefined;
    if (!options?.createConnection || options.agent != null) return args;
    const host = options.host ?? options.hostname;
    const port = Number(options.port) || 443;
    if (!proxied(host, port)) return args;
    const own = options.createConnection;
    const copy = args.slice();
    copy[at] = {
      ...options,
      createConnection: (connectOptions: ConnectOptions, callback: Callback) => {
        tunnel(host, port, (err, socket) => (err ? callback(err) : callback(null, own({ ...connectOptions, socket }))));
        return undefined;
      },
    };
    return copy;
  };
  const request = https.request;
  const get = https.get;
  https.request = (...args: unknown[]) => (request as (...a: unknown[]) => http.ClientRequest)(...viaTunnel(args));
  https.get = (...args: unknown[]) => (get as (...a: unknown[]) => http.ClientRequest)(...viaTunnel(args));
}

// Trust: keygate's CA joins contexts that use the default roots, read once, on the first one.
const caPath = process.env.KEYGATE_CA_CERT;
if (caPath) {
  let caPem: string | undefined;
  const create = tls.createSecureContext;
  tls.createSecureContext = function createSecureContext(options?: tls.SecureContextOptions) {
    const context = create.call(this, options);
    if (options?.ca === undefined) {
      try {
        caPem ??= fs.readFileSync(caPath, 'utf8');
        context.context.addCACert(caPem);
      } catch (err) {
        process.stderr.write(`keygate: could not add keygate's CA to this process's TLS trust (${(err as Error).message})\n`);
      }
    }
    return context;
  };
}

// fetch: the global dispatcher slot that Node's bundled undici and the npm package both read.
const GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1');

function install(value: unknown): void {
  Object.defineProperty(globalThis, GLOBAL_DISPATCHER, { value, writable: true, enumerable: false, configurable: true });
}

type AgentClass = typeof import('undici').EnvHttpProxyAgent;

function envHttpProxyAgentClass(): AgentClass {
  const main = require.resolve('undici');
  const loading = require.cache[main] && !require.cache[main].loaded;
  if (!loading) return (require(main) as typeof import('undici')).EnvHttpProxyAgent;
  // We are inside undici's own first load: the child imported this very copy, whose global.js reads
  // the dispatcher while its exports are half built. Take the class from its module instead; its
  // prototype gets the API methods when undici's index finishes loading, before anyone dispatches.
  const dir = require('node:path').dirname(main) as string;
  return require(`${dir}/lib/dispatcher/env-http-proxy-agent.js`) as AgentClass;
}

Object.defineProperty(globalThis, GLOBAL_DISPATCHER, {
  configurable: true,
  enumerable: false,
  get() {
    // Loading undici reads this symbol and, finding nothing, would install its own agent for good
    // (non-configurable). A placeholder object while loading keeps the slot ours.
    install(Object.freeze({ keygateLoading: true }));
    try {
      const agent = new (envHttpProxyAgentClass())();
      install(agent);
      return agent;
    } catch (err) {
      install(undefined);
      process.stderr.write(`keygate: fetch in this process will not use the keygate proxy (${(err as Error).message})\n`);
      return undefined;
    }
  },
  set(value: unknown) {
    install(value);
  },
});
