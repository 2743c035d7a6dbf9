// The request line and Host of a request inside an intercepted tunnel: where it may go (the CONNECT
// authority, nothing else), and the head keygate sends upstream in its place.
import { type RequestHead, isHopByHop } from './http1.js';
import type { Decision, InjectionRule } from './rules.js';

/** Where an intercepted tunnel goes: taken from the CONNECT line, never from a later Host header. */
export interface InterceptedAuthority {
  host: string;
  port: number;
  rule: InjectionRule;
}

/** The request head keygate sends upstream: hop-by-hop fields dropped, the credential in place. */
export function forwardHead(
  head: RequestHead,
  target: string,
  decision: Decision,
  credential: string | undefined,
  headerName: string,
  authority: InterceptedAuthority,
): string {
  let out = `${head.method} ${target} HTTP/1.${head.minor}\r\n`;
  if (head.host === undefined) {
    const host = authority.host.includes(':') ? `[${authority.host}]` : authority.host;
    out += `Host: ${authority.port === 443 ? host : `${host}:${authority.port}`}\r\n`;
  }
  const raw = head.rawHeaders;
  const replaceAt = decision.action === 'replace' ? decision.index : -1;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    // `Connection: authorization` must not drop the credential keygate put in: the upstream would
    // answer 401, and every request would cost a refresh and a replay.
    if (i + 1 !== replaceAt && isHopByHop(name.toLowerCase(), head.connectionTokens)) continue;
    out += `${name}: ${i + 1 === replaceAt ? credential! : raw[i + 1]}\r\n`;
  }
  if (decision.action === 'add') out += `${headerName}: ${credential!}\r\n`;
  return `${out}\r\n`;
}

/** The origin-form target to send upstream, or undefined when an absolute-form target names another authority. */
export function requestTarget(url: string, authority: InterceptedAuthority): string | undefined {
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
export function hostMatches(host: string | undefined, authority: InterceptedAuthority): boolean {
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
