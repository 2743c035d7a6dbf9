// Requests inside an intercepted tunnel: check them, apply the provider's injection rule, forward
// them to the CONNECT authority over a pooled, verified TLS connection, and stream the answer back.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { TokenAccess } from '../run/credentials.js';
import type { RequestLogEntry } from './log.js';
import { redactPath } from './log.js';
import { HOP_BY_HOP, ReplayBuffer, UpstreamExchange } from './exchange.js';
import { sendError } from './responses.js';
import type { Decision, InjectionRule } from './rules.js';
import { describeUpstreamError } from './upstream-errors.js';

/** Where an intercepted tunnel goes: taken from the CONNECT line, never from a later Host header. */
export interface InterceptedAuthority {
  host: string;
  port: number;
  /** https://host:port, the upstream origin. */
  origin: string;
  rule: InjectionRule;
}

export interface InterceptOptions {
  dispatcher: Dispatcher;
  tokens: TokenAccess;
  onRequest?: (entry: RequestLogEntry) => void;
}

export function createInterceptHandler(options: InterceptOptions) {
  return (req: IncomingMessage, res: ServerResponse, authority: InterceptedAuthority): void => {
    handle(options, req, res, authority).catch((err: unknown) => {
      // Only reached for bugs: every expected failure is answered inside handle().
      sendError(res, 502, 'keygate_upstream_error', `keygate failed to handle the request (${(err as Error)?.name ?? 'error'})`);
    });
  };
}

async function handle(options: InterceptOptions, req: IncomingMessage, res: ServerResponse, authority: InterceptedAuthority): Promise<void> {
  const started = performance.now();
  const rule = authority.rule;
  const entry: RequestLogEntry = {
    time: new Date().toISOString(),
    method: req.method ?? 'GET',
    host: authority.host,
    path: '',
    status: 0,
    provider: rule.provider,
    connection: null,
    duration_ms: 0,
    action: 'passed',
  };
  const finish = (status: number, error?: string): void => {
    entry.status = status;
    entry.duration_ms = Math.round(performance.now() - started);
    if (error) entry.error = error;
    options.onRequest?.(entry);
  };
  const refuse = (status: number, code: Parameters<typeof sendError>[2], message: string): void => {
    entry.action = 'refused';
    sendError(res, status, code, message);
    req.resume();
    finish(status, message);
  };

  const target = requestTarget(req.url ?? '/', authority);
  entry.path = redactPath(target ?? '/');
  if (target === undefined) return refuse(421, 'keygate_misdirected_request', `this tunnel goes to ${authority.host}:${authority.port}; the request names another host`);
  if (!hostMatches(req.headers.host, authority)) {
    return refuse(421, 'keygate_misdirected_request', `the Host header does not name ${authority.host}, the host this tunnel was opened for`);
  }
  const raw = req.rawHeaders;
  for (let i = 1; i < raw.length; i += 2) {
    // Node's parser already rejects these; checked again because a header is a security boundary here.
    if (/[\r\n]/.test(raw[i]!)) return refuse(400, 'keygate_bad_request', `header ${raw[i - 1]} contains CR or LF`);
  }
  const decision = rule.decide(target, raw);
  if (decision.action === 'refuse') return refuse(400, 'keygate_placeholder_refused', decision.reason);

  let token: string | undefined;
  if (decision.action !== 'pass') {
    entry.action = 'injected';
    entry.connection = decision.credential.connection;
    try {
      token = await options.tokens.getToken(rule.provider, decision.credential.connection);
    } catch (err) {
      entry.connection = null;
      entry.action = 'refused';
      const message = `no usable credential for ${rule.provider}/${decision.credential.connection}: ${(err as Error).message}`;
      sendError(res, 502, 'keygate_credential_unavailable', message);
      req.resume();
      return finish(502, message);
    }
  }

  const hasBody = req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');
  // Only a request that carries our credential can be replayed after a 401 with a new one.
  const replay = token !== undefined && decision.action !== 'pass' ? new ReplayBuffer(hasBody) : undefined;
  const exchange = new UpstreamExchange(
    res,
    (err) => describeUpstreamError(err, authority.host, authority.port),
    (status, error) => {
      req.resume();
      finish(status, error);
    },
  );
  const send = (headerToken: string | undefined, body: Readable | Buffer | undefined): void => {
    options.dispatcher.dispatch(
      {
        origin: authority.origin,
        path: target,
        method: entry.method as Dispatcher.HttpMethod,
        headers: forwardHeaders(raw, decision, headerToken === undefined ? undefined : rule.headerValue(headerToken), rule.header),
        body,
      },
      exchange,
    );
  };
  if (replay && decision.action !== 'pass') {
    const credential = decision.credential;
    exchange.onUnauthorized = async () => {
      const body = replay.complete();
      if (body === undefined) return false;
      const next = await options.tokens.onUnauthorized(rule.provider, credential.connection, token!).catch(() => undefined);
      if (next === undefined || next === token) return false;
      entry.action = 'replayed';
      send(next, body.length > 0 ? body : undefined);
      return true;
    };
  }
  send(token, !hasBody ? undefined : replay ? replay.tee(req) : req);
}

/** The origin-form target to send upstream, or undefined when an absolute-form target names another authority. */
function requestTarget(url: string, authority: InterceptedAuthority): string | undefined {
  if (url.startsWith('/')) return url;
  if (url === '*') return url;
  try {
    const parsed = new URL(url);
    const port = Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80));
    if (parsed.protocol !== 'https:' || parsed.hostname.toLowerCase() !== authority.host || port !== authority.port) return undefined;
    return `${parsed.pathname}${parsed.search}`;
  } catch {
    return undefined;
  }
}

/**
 * The Host header must name the tunnel's host: behind a shared front end (a CDN), a different Host
 * could route the injected credential to another site.
 */
function hostMatches(host: string | undefined, authority: InterceptedAuthority): boolean {
  if (host === undefined) return true;
  let value = host.toLowerCase();
  let port = 443;
  const colon = value.lastIndexOf(':');
  if (colon !== -1 && !value.endsWith(']')) {
    port = Number(value.slice(colon + 1));
    value = value.slice(0, colon);
  }
  if (value.endsWith('.')) value = value.slice(0, -1);
  return value === authority.host && port === authority.port;
}

function forwardHeaders(raw: readonly string[], decision: Decision, credentialValue: string | undefined, headerName: string): string[] {
  let dropped: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() === 'connection') {
      dropped ??= new Set();
      for (const token of raw[i + 1]!.split(',')) dropped.add(token.trim().toLowerCase());
    }
  }
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i]!.toLowerCase();
    if (HOP_BY_HOP.has(lower) || dropped?.has(lower)) continue;
    out.push(raw[i]!, decision.action === 'replace' && i + 1 === decision.index ? credentialValue! : raw[i + 1]!);
  }
  if (decision.action === 'add') out.push(headerName, credentialValue!);
  return out;
}
