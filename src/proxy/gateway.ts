// The Discord gateway relay. A bot's token travels inside the IDENTIFY (op 2) and RESUME (op 6)
// payloads of the gateway WebSocket, not in a header, so header injection cannot serve it. For the
// gateway hosts (the provider's bot.gateway_hosts, and the resume_gateway_url hosts READY names),
// keygate terminates the client's WebSocket, opens its own to the gateway, and relays messages both
// ways. The only change: a bot placeholder in the token of a client's IDENTIFY or RESUME becomes the
// real bot token. Every other message, compressed server frames included, passes as it came, and
// close codes (4004 for a bad token) are passed on. Framing is the `ws` package's.
//
// A placeholder anywhere else in a client message (another field, another opcode, a binary frame)
// closes the client's connection with 4004 and is never sent upstream, and so is a user placeholder in
// IDENTIFY: a user token has no business on the bot gateway.
//
// This file is the light part `keygate run` loads at start (hosts, rule, wiring); the relay with
// the WebSocket library is gateway-relay.ts, loaded on the first gateway upgrade.
import type tls from 'node:tls';
import type { RequestLogEntry } from './log.js';
import type { ProxyErrorCode } from './responses.js';
import { type Decision, InjectionRule, PLACEHOLDER_PREFIX, type RuleProvider, type RunCredential, kindOf } from './rules.js';
import type { TokenAccess } from './tokens.js';

/** What the relay needs of an upgrade request that keygate intercepted (proxy/upgrade.ts's UpgradeContext). */
export interface GatewayUpgrade {
  client: tls.TLSSocket;
  head: { method: string; rawHeaders: readonly string[] };
  target: string;
  authority: { host: string; port: number; rule: InjectionRule };
  buffered: Buffer | undefined;
  tokens: TokenAccess;
  connectUpstream(): Promise<tls.TLSSocket>;
  refuse(status: number, code: ProxyErrorCode, message: string): void;
  done(status: number, error?: string): void;
  entry: RequestLogEntry;
}

/**
 * The gateway hosts keygate relays: the configured ones, and resume hosts learned from READY. A
 * learned host must sit under the parent domain of a configured one (gateway.discord.gg →
 * *.discord.gg), so a READY can never make keygate intercept an unrelated site.
 */
export class GatewayHosts {
  private readonly hosts = new Set<string>();
  private readonly configured: ReadonlySet<string>;
  private readonly learned = new Set<string>();
  private readonly parents: string[];

  constructor(
    configured: readonly string[],
    private readonly onLearn: (host: string) => void = () => undefined,
  ) {
    for (const host of configured) this.hosts.add(host.toLowerCase());
    this.configured = new Set(this.hosts);
    this.parents = [...this.hosts].map((h) => h.slice(h.indexOf('.') + 1)).filter((p) => p.includes('.'));
  }

  has(host: string): boolean {
    return this.hosts.has(host.toLowerCase());
  }

  get all(): string[] {
    return [...this.hosts];
  }

  /** The parent domains learned hosts may come from (for the CA's name constraints). */
  get domains(): string[] {
    return [...new Set(this.parents)];
  }

  /**
   * Whether `credential` may be sent to `host` in an IDENTIFY/RESUME: its login binding names the
   * host, or (for a resume host learned from READY) a configured gateway host under the same parent.
   */
  boundTo(credential: RunCredential, host: string): boolean {
    const bound = credential.bound?.hosts;
    if (!bound) return true;
    const name = host.toLowerCase();
    if (bound.includes(name)) return true;
    if (!this.learned.has(name)) return false;
    const parent = name.slice(name.indexOf('.') + 1);
    return bound.some((b) => this.configured.has(b) && b.slice(b.indexOf('.') + 1) === parent);
  }

  /** Learns the host of a resume_gateway_url; false when it is not one keygate may relay. */
  learn(url: unknown): boolean {
    if (typeof url !== 'string') return false;
    let host: string;
    try {
      const parsed = new URL(url);
      if (parsed.protocol !== 'wss:' || (parsed.port !== '' && parsed.port !== '443')) return false;
      host = parsed.hostname.toLowerCase();
    } catch {
      return false;
    }
    if (this.hosts.has(host)) return true;
    if (!this.parents.some((p) => host.endsWith(`.${p}`))) return false;
    this.hosts.add(host);
    this.learned.add(host);
    this.onLearn(host);
    return true;
  }
}

/**
 * The rule for the gateway hosts: keygate intercepts them only to relay the WebSocket, so it never
 * puts a credential in a header there. A request with no placeholder passes untouched; a
 * placeholder in the URL or a header is refused (it would otherwise go upstream as is).
 */
export class GatewayRule extends InjectionRule {
  constructor(provider: RuleProvider, hosts: readonly string[], credentials: readonly RunCredential[]) {
    super({ ...provider, api: { hosts: [...hosts] } }, credentials);
  }

  override decide(target: string, rawHeaders: readonly string[]): Decision {
    const carries = target.includes(PLACEHOLDER_PREFIX) || rawHeaders.some((v, i) => i % 2 === 1 && v.includes(PLACEHOLDER_PREFIX));
    if (carries)
      return {
        action: 'refuse',
        reason: `on ${this.hosts.join(', ')} a keygate placeholder goes only in the token of a gateway IDENTIFY or RESUME`,
      };
    return { action: 'pass' };
  }

  override explain(): string {
    const bots = this.credentials.filter((c) => kindOf(c) === 'bot').map((c) => `$${c.envName} → ${c.provider}/${c.connection}`);
    return `On ${this.hosts.join(', ')} (and the resume hosts READY names): the WebSocket gateway is relayed, and a bot placeholder in the token of IDENTIFY or RESUME (${bots.join(', ')}) becomes the real bot token; nothing else is changed, and no header gets a credential.`;
  }
}

/** What `keygate run` plugs into the proxy for one provider's gateway. */
export interface GatewayRelay {
  rule: GatewayRule;
  hosts: GatewayHosts;
  /** The proxy's upgrade hook: takes WebSocket upgrades to the gateway hosts. */
  upgrade(ctx: GatewayUpgrade): boolean;
  /** The proxy's late-host lookup: resume hosts learned from READY. */
  lateRule(host: string): InjectionRule | undefined;
}

/**
 * The relay for a provider's bot gateway, when the run has a bot credential of that provider and the
 * provider file names gateway hosts; undefined otherwise (the gateway is then a blind tunnel, where a
 * placeholder can only fail).
 */
export function gatewayRelay(
  provider: RuleProvider & { bot?: { format: string; gateway_hosts?: string[] } },
  credentials: readonly RunCredential[],
): GatewayRelay | undefined {
  const bots = credentials.filter((c) => kindOf(c) === 'bot');
  const configured = provider.bot?.gateway_hosts ?? [];
  if (bots.length === 0 || configured.length === 0) return undefined;
  const hosts = new GatewayHosts(configured);
  const rule = new GatewayRule(provider, configured, bots);
  return {
    rule,
    hosts,
    upgrade(ctx) {
      if (ctx.authority.rule !== rule) return false;
      void import('./gateway-relay.js')
        .then(({ relayGateway }) => relayGateway(ctx, hosts))
        .catch((err: Error) => ctx.refuse(502, 'keygate_upstream_error', `the gateway relay failed: ${err.message}`));
      return true;
    },
    lateRule: (host) => (hosts.has(host) ? rule : undefined),
  };
}

/** The parent domains of a provider's gateway hosts, which keygate's CA must be allowed to issue for. */
export function gatewayDomains(provider: { bot?: { gateway_hosts?: string[] } }): string[] {
  return new GatewayHosts(provider.bot?.gateway_hosts ?? []).domains;
}
