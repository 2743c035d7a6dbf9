// Every outbound connection keygate makes (token exchange, refresh, revoke, account lookup, the
// proxy's upstream) goes through here, so KEYGATE_CONNECT_TO and timeouts apply everywhere alike:
// request() for keygate's own calls, connectTls() for the proxy's upstream, both on node:https/tls.
// TLS is always verified for the *original* host name, even when the socket goes elsewhere: that is
// what lets tests and `keygate demo` point discord.com at the local emulator without weakening TLS.
// NODE_EXTRA_CA_CERTS needs no code: Node adds those CAs to its default store at start-up, and
// both undici's connector and tls.connect use that store.
import fs from 'node:fs';
import type http from 'node:http';
import type https from 'node:https';
import { createRequire } from 'node:module';
import net from 'node:net';
import tls from 'node:tls';
import type * as Undici from 'undici';
import { UsageError } from './errors.js';

// undici takes ~90 ms to load, as long as the rest of `keygate run`'s start-up, and a refresh under
// load would wait for it. keygate's own calls use node:https instead; undici is loaded only for
// createDispatcher() (the demo's browser, tests). node:http(s) too load on the first call: most
// runs never make one.
const require = createRequire(import.meta.url);
const httpModule = (): typeof http => require('node:http') as typeof http;
const httpsModule = (): typeof https => require('node:https') as typeof https;
let undiciModule: typeof Undici | undefined;
function undici(): typeof Undici {
  undiciModule ??= require('undici') as typeof Undici;
  return undiciModule;
}

export interface ConnectTarget {
  host: string;
  port: number;
}

/** Parse KEYGATE_CONNECT_TO: `HOST:PORT:CONNECT_HOST:CONNECT_PORT[,...]` (curl's --connect-to syntax). */
export function parseConnectTo(value: string | undefined): Map<string, ConnectTarget> {
  const map = new Map<string, ConnectTarget>();
  if (!value || value.trim() === '') return map;
  for (const raw of value.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const match = /^([^:]+):(\d{1,5}):([^:]+|\[[0-9a-fA-F:.]+\]):(\d{1,5})$/.exec(entry);
    const port = Number(match?.[2]);
    const connectPort = Number(match?.[4]);
    if (!match || !validPort(port) || !validPort(connectPort)) {
      throw new UsageError(`KEYGATE_CONNECT_TO entry \`${entry}\` is not HOST:PORT:CONNECT_HOST:CONNECT_PORT`, {
        hint: 'use e.g. KEYGATE_CONNECT_TO=discord.com:443:127.0.0.1:8443',
      });
    }
    map.set(`${match[1].toLowerCase()}:${port}`, { host: match[3].replace(/^\[|\]$/g, ''), port: connectPort });
  }
  return map;
}

function validPort(port: number): boolean {
  return Number.isInteger(port) && port > 0 && port < 65536;
}

/** Where a connection to host:port really goes (itself unless KEYGATE_CONNECT_TO says otherwise). */
export function resolveTarget(map: Map<string, ConnectTarget>, host: string, port: number): ConnectTarget {
  return map.get(`${host.toLowerCase()}:${port}`) ?? { host, port };
}

export interface OutboundOptions {
  env?: NodeJS.ProcessEnv;
  connectTimeoutMs?: number;
  headersTimeoutMs?: number;
  bodyTimeoutMs?: number;
  /** Extra CA certificates (PEM) on top of the default store, for in-process tests. */
  ca?: string[];
}

/** An undici dispatcher that honours KEYGATE_CONNECT_TO, keeps connections alive and has timeouts. */
export function createDispatcher(options: OutboundOptions = {}): Undici.Agent {
  const { Agent, buildConnector } = undici();
  const connectTo = parseConnectTo((options.env ?? process.env).KEYGATE_CONNECT_TO);
  // One secure context for every connection: passing `ca` alone would re-parse ~140 roots per handshake.
  const tlsOptions = options.ca ? { secureContext: trustContext(options.ca) } : {};
  const base = buildConnector({ timeout: options.connectTimeoutMs ?? 10_000, ...tlsOptions });
  const connect: Undici.buildConnector.connector = (opts, callback) => {
    const defaultPort = opts.protocol === 'https:' ? 443 : 80;
    const port = Number(opts.port) || defaultPort;
    const target = resolveTarget(connectTo, opts.hostname, port);
    // `host` keeps the original name, so undici derives SNI and certificate checks from it.
    return base({ ...opts, hostname: target.host, port: String(target.port) }, callback);
  };
  return new Agent({
    connect,
    headersTimeout: options.headersTimeoutMs ?? 30_000,
    bodyTimeout: options.bodyTimeoutMs ?? 30_000,
    keepAliveTimeout: 10_000,
  });
}

/** A secure context trusting Node's default store (with NODE_EXTRA_CA_CERTS) plus `extra` PEMs. */
export function trustContext(extra: string[] = []): tls.SecureContext {
  return tls.createSecureContext(extra.length > 0 ? { ca: [...defaultCaList(), ...extra] } : {});
}

export interface TlsConnectOptions {
  /** Default: trustContext(). Create it once: building one per connection re-parses the roots. */
  secureContext?: tls.SecureContext;
  /** A session from an earlier connection to the same host (TLS resumption). */
  session?: Buffer;
  timeoutMs?: number;
}

/**
 * A verified TLS connection to host:port, or to where KEYGATE_CONNECT_TO sends it, with SNI and the
 * certificate check still for `host`. ALPN offers only http/1.1. Resolves once the handshake is done.
 */
export function connectTls(
  connectTo: Map<string, ConnectTarget>,
  host: string,
  port: number,
  options: TlsConnectOptions = {},
): Promise<tls.TLSSocket> {
  const target = resolveTarget(connectTo, host, port);
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: target.host,
      port: target.port,
      // SNI carries DNS names only (RFC 6066 §3); the identity check below covers IP hosts too.
      servername: net.isIP(host) ? undefined : host,
      checkServerIdentity: (_name, cert) => tls.checkServerIdentity(host, cert),
      secureContext: options.secureContext ?? (defaultContext ??= trustContext()),
      session: options.session,
      ALPNProtocols: ['http/1.1'],
      minVersion: 'TLSv1.2',
    });
    socket.setNoDelay(true);
    const timer = setTimeout(
      () => socket.destroy(Object.assign(new Error(`connect to ${host}:${port} timed out`), { code: 'ETIMEDOUT' })),
      options.timeoutMs ?? 10_000,
    );
    const fail = (err: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    socket.once('error', fail);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      socket.off('error', fail);
      resolve(socket);
    });
  });
}

let defaultContext: tls.SecureContext | undefined;
let tlsRootCache: string[] | undefined;
function defaultCaList(): string[] {
  // Passing `ca` replaces Node's default trust store, so in-process extras are added to it.
  if (!tlsRootCache) {
    tlsRootCache = [...tls.rootCertificates];
    const extra = process.env.NODE_EXTRA_CA_CERTS;
    if (extra && fs.existsSync(extra)) tlsRootCache.push(fs.readFileSync(extra, 'utf8'));
  }
  return tlsRootCache;
}

/** Where keygate's own calls go and what they trust: KEYGATE_CONNECT_TO, extra CAs, TLS sessions. */
export class Outbound {
  readonly connectTo: Map<string, ConnectTarget>;
  readonly secureContext: tls.SecureContext | undefined;
  // Not kept alive: these calls are minutes or days apart, and a refresh token is single-use, so a
  // POST must never go out on a connection the server may be closing. TLS sessions are reused.
  readonly httpsAgent = new (httpsModule().Agent)({ keepAlive: false });
  readonly httpAgent = new (httpModule().Agent)({ keepAlive: false });

  constructor(options: OutboundOptions = {}) {
    this.connectTo = parseConnectTo((options.env ?? process.env).KEYGATE_CONNECT_TO);
    this.secureContext = options.ca ? trustContext(options.ca) : undefined;
  }
}

let shared: Outbound | undefined;
/** The process-wide settings for keygate's own calls (made on first use). */
export function outbound(): Outbound {
  shared ??= new Outbound();
  return shared;
}

export interface OutboundRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Default: outbound(). */
  dispatcher?: Outbound;
  /** Silence allowed before the response head, and then between body chunks (ms). Default 30 s each. */
  headersTimeout?: number;
  bodyTimeout?: number;
  signal?: AbortSignal;
}

export interface OutboundResponse {
  statusCode: number;
  headers: http.IncomingHttpHeaders;
  body: { text(): Promise<string>; json(): Promise<unknown>; bytes(): Promise<Buffer>; dump(): Promise<void> };
}

/**
 * One HTTP(S) request, as undici's request() answers: status and headers, then the body on demand.
 * Network and TLS failures reject with the error's `code` (ECONNREFUSED, CERT_HAS_EXPIRED, ETIMEDOUT, ...).
 */
export function request(url: string | URL, options: OutboundRequest = {}): Promise<OutboundResponse> {
  const target = new URL(url);
  const secure = target.protocol === 'https:';
  const settings = options.dispatcher ?? outbound();
  const hostname = target.hostname.replace(/^\[|\]$/g, '');
  const port = Number(target.port) || (secure ? 443 : 80);
  const to = resolveTarget(settings.connectTo, hostname, port);
  const timeout = (code: string, what: string) => Object.assign(new Error(`${target.host} ${what}`), { code });
  // `secureContext` reaches tls.connect through the agent; @types/node just does not list it.
  const requestOptions: https.RequestOptions & { secureContext?: tls.SecureContext } = {
    host: to.host,
    port: to.port,
    method: options.method ?? 'GET',
    path: `${target.pathname}${target.search}`,
    headers: { host: target.host, ...options.headers },
    agent: secure ? settings.httpsAgent : settings.httpAgent,
    signal: options.signal,
    // TLS for the original host, wherever the socket goes (SNI carries DNS names only, RFC 6066 §3).
    servername: net.isIP(hostname) ? undefined : hostname,
    checkServerIdentity: (_name: string, cert: tls.PeerCertificate) => tls.checkServerIdentity(hostname, cert),
    secureContext: settings.secureContext,
  };
  return new Promise((resolve, reject) => {
    const req = secure ? httpsModule().request(requestOptions) : httpModule().request(requestOptions);
    req.setTimeout(options.headersTimeout ?? 30_000, () => req.destroy(timeout('ETIMEDOUT', 'sent no response in time')));
    req.once('error', reject);
    req.once('response', (res) => {
      req.setTimeout(options.bodyTimeout ?? 30_000, () => req.destroy(timeout('ETIMEDOUT', 'stopped sending the response body')));
      const chunks: Buffer[] = [];
      const done = new Promise<Buffer>((resolveBody, rejectBody) => {
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.once('end', () => resolveBody(Buffer.concat(chunks)));
        res.once('error', rejectBody);
        req.once('error', rejectBody);
      });
      done.catch(() => undefined); // a body nobody reads must not fail unhandled
      const text = async () => (await done).toString('utf8');
      resolve({
        statusCode: res.statusCode ?? 0,
        headers: res.headers,
        body: { text, json: async () => JSON.parse(await text()) as unknown, bytes: () => done, dump: async () => void (await done) },
      });
    });
    req.end(options.body);
  });
}

/** What went wrong with a request that got no answer, for messages: the error code, else its first line. */
export function networkReason(err: unknown): string {
  const e = err as { code?: string; message?: string; cause?: { code?: string } };
  return e.cause?.code ?? e.code ?? (e.message ?? 'network error').split('\n')[0];
}

/** A response body parsed as JSON, or undefined when it is not JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

// Node's codes for a certificate chain that does not end in a CA this process trusts.
const UNTRUSTED_CERT = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);
const CLOCK_CERT = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);

/** True when the request failed on the server's certificate, not on the network: retrying won't help. */
export function isCertificateError(err: unknown): boolean {
  const code = networkReason(err);
  return UNTRUSTED_CERT.has(code) || CLOCK_CERT.has(code) || code === 'ERR_TLS_CERT_ALTNAME_INVALID';
}

/** What to do about a request that got no answer, from the error code (never from request data). */
export function networkHint(err: unknown): string {
  const code = networkReason(err);
  if (UNTRUSTED_CERT.has(code)) {
    return "the server's certificate is not signed by a CA this machine trusts; for a local emulator or a TLS-inspecting proxy, set NODE_EXTRA_CA_CERTS to its CA file (`keygate emulator` prints it as `ca:`)";
  }
  if (CLOCK_CERT.has(code)) return "check this machine's clock (`keygate doctor` compares it with the provider's), then try again";
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return 'the certificate is for another host; check KEYGATE_CONNECT_TO if set';
  return 'check your network (and KEYGATE_CONNECT_TO if set), then try again';
}
