// Every outbound connection keygate makes (token exchange, refresh, revoke, account lookup, the
// proxy's upstream) goes through here, so KEYGATE_CONNECT_TO and timeouts apply everywhere alike.
// TLS is always verified for the *original* host name, even when the socket goes elsewhere: that is
// what lets tests and `keygate demo` point discord.com at the local emulator without weakening TLS.
// NODE_EXTRA_CA_CERTS needs no code: Node adds those CAs to its default store at start-up, and
// undici's connector uses that store.
import fs from 'node:fs';
import tls from 'node:tls';
import { Agent, buildConnector, request, type Dispatcher } from 'undici';
import { UsageError } from './errors.js';

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
    map.set(`${match[1]!.toLowerCase()}:${port}`, { host: match[3]!.replace(/^\[|\]$/g, ''), port: connectPort });
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
export function createDispatcher(options: OutboundOptions = {}): Agent {
  const connectTo = parseConnectTo((options.env ?? process.env).KEYGATE_CONNECT_TO);
  // One secure context for every connection: passing `ca` alone would re-parse ~140 roots per handshake.
  const tlsOptions = options.ca ? { secureContext: tls.createSecureContext({ ca: [...defaultCaList(), ...options.ca] }) } : {};
  const base = buildConnector({ timeout: options.connectTimeoutMs ?? 10_000, ...tlsOptions });
  const connect: buildConnector.connector = (opts, callback) => {
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

let shared: Agent | undefined;
/** The process-wide dispatcher for keygate's own calls (created on first use). */
export function outbound(): Dispatcher {
  shared ??= createDispatcher();
  return shared;
}

export { request };
