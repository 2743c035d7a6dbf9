// Everything the emulator remembers: applications, users, authorization codes, grants and their
// tokens, fault injections, counters and the request log. No HTTP here, so the rules read plainly.
// Tokens are kept only while they are live: a rotated refresh token or a revoked grant leaves the
// maps, so every check on the hot path is one Map lookup.
import { BotRegistry } from './bots.js';
import { randomToken } from './random.js';
import type {
  EmulatorClient,
  EmulatorCounters,
  EmulatorGuild,
  EmulatorUser,
  FaultRoutes,
  RequestLogEntry,
  TokenResponse,
} from './types.js';

/** Codes live ten minutes (RFC 6749 §4.1.2 recommends at most ten). */
export const CODE_LIFETIME_MS = 10 * 60 * 1000;
const LOG_CAPACITY = 10_000;

export interface AuthorizationCode {
  clientId: string;
  userId: string;
  /** As sent to the authorize page; null when it was omitted (the client's only URI was used). */
  redirectUri: string | null;
  scopes: string[];
  /** S256 code challenge, or null without PKCE. */
  challenge: string | null;
  /** With the `bot` scope: the guild the bot was added to on the consent page. */
  guildId?: string;
  expiresAt: number;
}

/** An authorize request waiting on the consent page: the code to issue, where to send it, the state to echo. */
export interface PendingConsent {
  code: Omit<AuthorizationCode, 'expiresAt' | 'guildId'>;
  redirectUri: string;
  state: string | null;
  /** A bot to add to this guild with these permissions, when the scopes include `bot`. */
  install?: { guild: EmulatorGuild; permissions: string };
  expiresAt: number;
}

/** One authorization: what a user granted a client, and its current pair of tokens. */
export interface Grant {
  id: string;
  clientId: string;
  userId: string;
  scopes: string[];
  scopeSet: ReadonlySet<string>;
  access: AccessToken | null;
  refreshToken: string | null;
}

export interface AccessToken {
  /** The emulator's name for the token, safe to log. */
  id: string;
  value: string;
  grant: Grant;
  expiresAt: number;
}

export type Fault = { kind: 'rate-limit'; retryAfter: number } | { kind: 'fail'; status: number };

/** The state file's shape (persist.ts). Field names are snake_case, like the rest of the emulator's JSON. */
export interface StateSnapshot {
  version: 1;
  /** Last id number used for grants and tokens, so ids stay unique across restarts. */
  sequence: number;
  clients: EmulatorClient[];
  grants: Array<{
    id: string;
    client_id: string;
    user_id: string;
    scopes: string[];
    access_token: { id: string; value: string; expires_at: number } | null;
    refresh_token: string | null;
  }>;
}

interface PendingFault {
  remaining: number;
  routes: FaultRoutes;
}

export function emptyCounters(): EmulatorCounters {
  return {
    authorizeCalls: 0,
    consentsDenied: 0,
    tokenRequests: 0,
    codeExchanges: 0,
    refreshes: 0,
    invalidGrants: 0,
    invalidClients: 0,
    revocations: 0,
    apiCalls: 0,
    unauthorized: 0,
    rateLimited: 0,
    injectedFailures: 0,
    gatewayConnections: 0,
    gatewayIdentifies: 0,
    gatewayResumes: 0,
    gatewayAuthFailures: 0,
  };
}

export class EmulatorState {
  readonly clients = new Map<string, EmulatorClient>();
  readonly users = new Map<string, EmulatorUser>();
  readonly bots = new BotRegistry();
  currentUserId: string;
  tokenLifetimeSeconds: number;
  counters: EmulatorCounters = emptyCounters();
  denyConsents = 0;
  /** 'auto': authorize approves at once (tests, demo); 'page': a person decides on the consent page. */
  consentMode: 'auto' | 'page' = 'auto';
  /** Consent pages shown and not yet answered, by their single-use id. */
  readonly consents = new Map<string, PendingConsent>();

  private readonly codes = new Map<string, AuthorizationCode>();
  private readonly accessTokens = new Map<string, AccessToken>();
  private readonly refreshTokens = new Map<string, Grant>();
  private readonly grants = new Set<Grant>();
  private rateLimit: PendingFault & { retryAfter: number } = { remaining: 0, routes: 'api', retryAfter: 0 };
  private failure: PendingFault & { status: number } = { remaining: 0, routes: 'token', status: 503 };
  private sequence = 0;
  private log: Array<{ at: number; method: string; path: string; status: number; tokenId: string | null }> = [];
  private logStart = 0;
  /** Called after every change worth keeping across restarts (clients, grants, tokens); see persist.ts. */
  onChange: () => void = () => {};

  constructor(
    clients: EmulatorClient[],
    users: EmulatorUser[],
    tokenLifetimeSeconds: number,
    readonly now: () => number,
  ) {
    for (const client of clients) this.addClient(client);
    for (const user of users) this.users.set(user.id, user);
    const first = users[0];
    if (!first) throw new Error('the emulator needs at least one user');
    this.currentUserId = first.id;
    this.tokenLifetimeSeconds = tokenLifetimeSeconds;
  }

  addClient(client: EmulatorClient): void {
    this.clients.set(client.client_id, { ...client, redirect_uris: [...client.redirect_uris] });
    this.bots.register(client);
    this.onChange();
  }

  registerRedirectUri(clientId: string, uri: string): void {
    const client = this.clients.get(clientId);
    if (!client) throw new Error(`no client \`${clientId}\` is registered`);
    if (!client.redirect_uris.includes(uri)) {
      client.redirect_uris.push(uri);
      this.onChange();
    }
  }

  /** The client if the secret is right, else null. */
  authenticateClient(clientId: string, secret: string): EmulatorClient | null {
    const client = this.clients.get(clientId);
    return client && client.client_secret === secret ? client : null;
  }

  issueCode(code: Omit<AuthorizationCode, 'expiresAt'>): string {
    const value = randomToken(30);
    this.codes.set(value, { ...code, expiresAt: this.now() + CODE_LIFETIME_MS });
    return value;
  }

  /** The live code issued to this client, or undefined (unknown, used, expired, another client's). */
  findCode(value: string, clientId: string): AuthorizationCode | undefined {
    const code = this.codes.get(value);
    if (!code) return undefined;
    if (code.expiresAt <= this.now()) {
      this.codes.delete(value);
      return undefined;
    }
    return code.clientId === clientId ? code : undefined;
  }

  /** Codes are single-use: a successful exchange burns the code. */
  exchangeCode(value: string, code: AuthorizationCode): TokenResponse {
    this.codes.delete(value);
    return this.createGrant(code.clientId, code.scopes, code.userId);
  }

  /**
   * Discord refresh tokens are single-use and rotate: the grant gets a new pair, and the previous
   * access token stops working too (a stale copy answers 401; discord/discord-api-docs#620).
   */
  refresh(refreshToken: string, clientId: string): TokenResponse | undefined {
    const grant = this.refreshTokens.get(refreshToken);
    if (!grant || grant.clientId !== clientId) return undefined;
    return this.issueTokens(grant);
  }

  /** A new authorization with fresh tokens; also mints tokens without the authorize round trip. */
  createGrant(clientId: string, scopes: string[], userId = this.currentUserId): TokenResponse {
    const grant: Grant = {
      id: `grant_${++this.sequence}`,
      clientId,
      userId,
      scopes,
      scopeSet: new Set(scopes),
      access: null,
      refreshToken: null,
    };
    this.grants.add(grant);
    return this.issueTokens(grant);
  }

  /**
   * Revoking either token of a grant revokes the whole authorization. Returns the id of the access
   * token that died with it, or undefined when the token is unknown or another client's.
   */
  revoke(token: string, clientId: string): string | undefined {
    const grant = this.accessTokens.get(token)?.grant ?? this.refreshTokens.get(token);
    if (!grant || grant.clientId !== clientId) return undefined;
    const id = grant.access?.id;
    this.dropGrant(grant);
    return id;
  }

  /** A grant that has no refresh token (client_credentials): the one issued with it stops working. */
  forgetRefreshToken(refreshToken: string): void {
    const grant = this.refreshTokens.get(refreshToken);
    if (!grant) return;
    this.refreshTokens.delete(refreshToken);
    grant.refreshToken = null;
  }

  accessToken(value: string): AccessToken | undefined {
    return this.accessTokens.get(value);
  }

  expireAllTokens(): void {
    const past = this.now() - 1000;
    for (const token of this.accessTokens.values()) token.expiresAt = past;
    this.onChange();
  }

  revokeAll(): void {
    for (const grant of [...this.grants]) this.dropGrant(grant);
  }

  rateLimitNext(count: number, retryAfter: number, routes: FaultRoutes): void {
    this.rateLimit = { remaining: count, retryAfter, routes };
  }

  failNext(count: number, status: number, routes: FaultRoutes): void {
    this.failure = { remaining: count, status, routes };
  }

  /** The injected answer for the next request of this kind, if one is pending (consumes it). */
  takeFault(route: 'token' | 'api'): Fault | undefined {
    if (this.rateLimit.remaining > 0 && applies(this.rateLimit.routes, route)) {
      this.rateLimit.remaining--;
      return { kind: 'rate-limit', retryAfter: this.rateLimit.retryAfter };
    }
    if (this.failure.remaining > 0 && applies(this.failure.routes, route)) {
      this.failure.remaining--;
      return { kind: 'fail', status: this.failure.status };
    }
    return undefined;
  }

  record(method: string, path: string, status: number, tokenId: string | null): void {
    const entry = { at: this.now(), method, path, status, tokenId };
    if (this.log.length < LOG_CAPACITY) {
      this.log.push(entry);
    } else {
      this.log[this.logStart] = entry;
      this.logStart = (this.logStart + 1) % LOG_CAPACITY;
    }
  }

  requestLog(): RequestLogEntry[] {
    const ordered = [...this.log.slice(this.logStart), ...this.log.slice(0, this.logStart)];
    return ordered.map(({ at, ...rest }) => ({ time: new Date(at).toISOString(), ...rest }));
  }

  resetCounters(): void {
    this.counters = emptyCounters();
    this.log = [];
    this.logStart = 0;
  }

  /** What survives a restart: applications (with their redirect URIs) and live grants with their tokens. */
  snapshot(): StateSnapshot {
    return {
      version: 1,
      sequence: this.sequence,
      clients: [...this.clients.values()],
      grants: [...this.grants].map((g) => ({
        id: g.id,
        client_id: g.clientId,
        user_id: g.userId,
        scopes: g.scopes,
        access_token: g.access && { id: g.access.id, value: g.access.value, expires_at: g.access.expiresAt },
        refresh_token: g.refreshToken,
      })),
    };
  }

  /** Load a snapshot over the configured data: its clients replace those of the same id. */
  restore(snapshot: StateSnapshot): void {
    for (const client of snapshot.clients) this.clients.set(client.client_id, { ...client, redirect_uris: [...client.redirect_uris] });
    for (const saved of snapshot.grants) {
      const grant: Grant = {
        id: saved.id,
        clientId: saved.client_id,
        userId: saved.user_id,
        scopes: saved.scopes,
        scopeSet: new Set(saved.scopes),
        access: null,
        refreshToken: saved.refresh_token,
      };
      if (saved.access_token) {
        grant.access = { id: saved.access_token.id, value: saved.access_token.value, grant, expiresAt: saved.access_token.expires_at };
        this.accessTokens.set(grant.access.value, grant.access);
      }
      if (grant.refreshToken) this.refreshTokens.set(grant.refreshToken, grant);
      this.grants.add(grant);
    }
    this.sequence = Math.max(this.sequence, snapshot.sequence);
  }

  private issueTokens(grant: Grant): TokenResponse {
    if (grant.access) this.accessTokens.delete(grant.access.value);
    if (grant.refreshToken) this.refreshTokens.delete(grant.refreshToken);
    const access: AccessToken = {
      id: `tok_${++this.sequence}`,
      value: randomToken(30),
      grant,
      expiresAt: this.now() + this.tokenLifetimeSeconds * 1000,
    };
    const refreshToken = randomToken(30);
    grant.access = access;
    grant.refreshToken = refreshToken;
    this.accessTokens.set(access.value, access);
    this.refreshTokens.set(refreshToken, grant);
    this.onChange();
    return {
      access_token: access.value,
      token_type: 'Bearer',
      expires_in: this.tokenLifetimeSeconds,
      refresh_token: refreshToken,
      scope: grant.scopes.join(' '),
    };
  }

  private dropGrant(grant: Grant): void {
    if (grant.access) this.accessTokens.delete(grant.access.value);
    if (grant.refreshToken) this.refreshTokens.delete(grant.refreshToken);
    grant.access = null;
    grant.refreshToken = null;
    this.grants.delete(grant);
    this.onChange();
  }
}

function applies(routes: FaultRoutes, route: 'token' | 'api'): boolean {
  return routes === 'all' || routes === route;
}

export { randomToken } from './random.js';
