// Injection rules: data that decides, for an intercepted request, which credential goes into which
// header. One rule per provider in the run; each can explain itself in a sentence (logs, --verbose).
// The security boundary lives here: a placeholder never goes upstream, and a rule only ever releases
// a credential of its own provider (the proxy only consults it for that provider's hosts).

/** Every placeholder keygate hands out starts with this, so stray ones are cheap to spot. */
export const PLACEHOLDER_PREFIX = 'kgph_';

/** A user's OAuth2 token (`Bearer`), or an application's bot token (`Bot`). */
export type CredentialKind = 'user' | 'bot';

/** One credential of the run: what the child sees instead of the token. */
export interface RunCredential {
  provider: string;
  connection: string;
  /** Absent means `user`. Decides the header format; a placeholder never crosses kinds. */
  kind?: CredentialKind;
  /** Random per run; not secret, but still never sent upstream or logged. */
  placeholder: string;
  /** The child's environment variable holding the placeholder, e.g. DISCORD_ACCESS_TOKEN_WORK. */
  envName: string;
  /**
   * Where this credential may go, as recorded in its record at login (src/run/binding.ts): hosts and
   * a path prefix. A request elsewhere never gets it. Absent: the rule's hosts and any path.
   */
  bound?: { hosts: readonly string[]; pathPrefix: string };
}

export interface RuleProvider {
  name: string;
  api: { hosts: string[] };
  injection: { header: string; format: string };
  /** The bot token's format, e.g. "Bot {token}"; absent when the provider has no bot credentials. */
  bot?: { format: string };
}

export type Decision =
  /** Replace the value at `index` of the raw header list with the credential. */
  | { action: 'replace'; credential: RunCredential; index: number }
  /** The request has no injection header: add one with the credential. */
  | { action: 'add'; credential: RunCredential }
  /** The request brings its own credential (no placeholder), or needs none: forward untouched. */
  | { action: 'pass' }
  | { action: 'refuse'; reason: string };

export class InjectionRule {
  readonly provider: string;
  readonly hosts: readonly string[];
  readonly header: string;
  /** The header value per kind: "Bearer {token}" for user tokens, "Bot {token}" for bot tokens. */
  readonly formats: Readonly<Record<CredentialKind, string>>;
  /**
   * For requests without the injection header: the only credential of the run, else its `default`
   * user connection; undefined when neither exists (several credentials and no default: the request
   * is refused, since keygate cannot tell which one it wants).
   */
  readonly fallback: RunCredential | undefined;
  private readonly headerLower: string;
  /** Lower-case scheme word of each kind ("bearer", "bot"), to refuse a placeholder of the other kind. */
  private readonly schemes: Readonly<Record<CredentialKind, string>>;
  private readonly last: Record<CredentialKind, { token: string; value: string } | undefined> = { user: undefined, bot: undefined };

  constructor(
    provider: RuleProvider,
    readonly credentials: readonly RunCredential[],
  ) {
    if (credentials.length === 0) throw new Error(`an injection rule for ${provider.name} needs a credential`);
    this.provider = provider.name;
    // Only hosts some credential of the run is bound to are intercepted: a host a provider file added
    // after login is tunnelled untouched until the user approves it.
    this.hosts = provider.api.hosts
      .map((h) => h.toLowerCase())
      .filter((h) => credentials.some((c) => !c.bound || c.bound.hosts.includes(h)));
    this.header = provider.injection.header;
    this.headerLower = this.header.toLowerCase();
    this.formats = { user: provider.injection.format, bot: provider.bot?.format ?? provider.injection.format };
    this.schemes = { user: schemeOf(this.formats.user), bot: schemeOf(this.formats.bot) };
    if (credentials.some((c) => kindOf(c) === 'bot') && !provider.bot) throw new Error(`${provider.name} has no bot credentials`);
    this.fallback = credentials.length === 1 ? credentials[0] : credentials.find((c) => c.connection === 'default' && kindOf(c) === 'user');
  }

  /** The header value that carries `token`, e.g. "Bearer <token>" or "Bot <token>" (the last one per kind is kept: every request asks). */
  headerValue(token: string, kind: CredentialKind = 'user'): string {
    const last = this.last[kind];
    if (last?.token === token) return last.value;
    const value = this.formats[kind].split('{token}').join(token);
    this.last[kind] = { token, value };
    return value;
  }

  /** One sentence for logs and --verbose; names variables and connections, never values. */
  explain(): string {
    const placeholders = this.credentials.map((c) => `$${c.envName} → ${c.provider}/${c.connection}`).join(', ');
    const kinds = new Set(this.credentials.map(kindOf));
    const shapes = [...kinds].map((kind) => `"${this.headerValue(kind === 'bot' ? '<bot token>' : '<access token>', kind)}"`).join(' or ');
    const fallback = this.fallback
      ? `a request without ${this.header} gets ${this.fallback.provider}/${this.fallback.connection}'s`
      : `a request without ${this.header} is refused (several credentials and no default one: send a placeholder)`;
    return `On ${this.hosts.join(', ')}: a placeholder in ${this.header} (${placeholders}) becomes ${shapes} of that connection; ${fallback}; nothing else is changed.`;
  }

  /**
   * What to do with a request, from its request target, raw header list ([name, value, ...]) and the
   * host it goes to (the CONNECT authority).
   */
  decide(target: string, rawHeaders: readonly string[], host?: string): Decision {
    const decision = this.decideHeaders(target, rawHeaders);
    if ((decision.action === 'replace' || decision.action === 'add') && !boundTo(decision.credential, host, target)) {
      const { bound } = decision.credential;
      const where = `${bound!.hosts.join(', ')} under ${bound!.pathPrefix}`;
      // No placeholder: forward as the client sent it, without a credential. A placeholder: refuse, so
      // the client learns why instead of getting the provider's 401.
      if (decision.action === 'add') return { action: 'pass' };
      return {
        action: 'refuse',
        reason: `${decision.credential.provider}/${decision.credential.connection} may only be sent to ${where} (recorded at login); this request goes to ${host ?? '?'}${target.split('?')[0]}`,
      };
    }
    return decision;
  }

  private decideHeaders(target: string, rawHeaders: readonly string[]): Decision {
    if (target.includes(PLACEHOLDER_PREFIX)) {
      return { action: 'refuse', reason: `a keygate placeholder may only be sent in the ${this.header} header, not in the URL` };
    }
    let found: Decision | undefined;
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const name = rawHeaders[i];
      const value = rawHeaders[i + 1];
      if (name.length === this.headerLower.length && name.toLowerCase() === this.headerLower) {
        if (found) return { action: 'refuse', reason: `the request has more than one ${this.header} header` };
        found = this.decideHeader(value, i + 1);
        if (found.action === 'refuse') return found;
      } else if (value.includes(PLACEHOLDER_PREFIX)) {
        return { action: 'refuse', reason: `a keygate placeholder may only be sent in the ${this.header} header, not in ${name}` };
      }
    }
    if (found) return found;
    if (this.fallback) return { action: 'add', credential: this.fallback };
    return {
      action: 'refuse',
      reason: `the request has no ${this.header} header and this run has several ${this.provider} credentials without a default one; send one of ${this.credentials.map((c) => `$${c.envName}`).join(', ')}`,
    };
  }

  private decideHeader(value: string, index: number): Decision {
    if (!value.includes(PLACEHOLDER_PREFIX)) return { action: 'pass' };
    const matches = this.credentials.filter((c) => value.includes(c.placeholder));
    if (matches.length > 1) return { action: 'refuse', reason: `${this.header} holds more than one placeholder` };
    const credential = matches[0];
    if (!credential) {
      return {
        action: 'refuse',
        reason: `${this.header} holds a placeholder that is not one of this run's ${this.provider} placeholders (${this.credentials.map((c) => `$${c.envName}`).join(', ')})`,
      };
    }
    // A bot placeholder sent as Bearer (or a user one as Bot) is refused, never converted: the two
    // kinds act for different principals, and mixing them up is the bug this rule exists to stop.
    const kind = kindOf(credential);
    const scheme = value.slice(0, value.indexOf(credential.placeholder)).trim().toLowerCase();
    if (scheme !== '' && scheme !== this.schemes[kind]) {
      const own = this.headerValue(`$${credential.envName}`, kind);
      return {
        action: 'refuse',
        reason: `$${credential.envName} is a ${kind === 'bot' ? 'bot' : 'user'} token: send it as "${this.header}: ${own}"`,
      };
    }
    return { action: 'replace', credential, index };
  }
}

/**
 * True when the credential may go to `host` + `target`. The path must start with the bound prefix and
 * hold no dot segment or encoded `.`, `/` or `\` (a server that normalises `/api/../x` would serve
 * `/x` with the credential).
 */
export function boundTo(credential: RunCredential, host: string | undefined, target: string): boolean {
  const bound = credential.bound;
  if (!bound) return true;
  if (host === undefined || !bound.hosts.includes(host.toLowerCase())) return false;
  const path = target.split('?', 1)[0];
  if (!path.startsWith(bound.pathPrefix)) return false;
  return !/(^|\/)\.\.?(\/|$)|%2e|%2f|%5c|\\/i.test(path);
}

export function kindOf(credential: Pick<RunCredential, 'kind'>): CredentialKind {
  return credential.kind ?? 'user';
}

/** "Bearer {token}" → "bearer"; a format without a scheme word → "". */
function schemeOf(format: string): string {
  return format.slice(0, format.indexOf('{token}')).trim().toLowerCase();
}
