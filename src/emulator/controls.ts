// The knobs tests and benchmarks turn: expire or revoke tokens, deny consent, inject 429s and 5xx,
// read counters and the request log. The admin HTTP API (admin.ts) calls these same functions, so
// in-process and out-of-process callers get the same validation.
import { KNOWN_SCOPES } from './scopes.js';
import type { EmulatorState } from './state.js';
import type { EmulatorClient, EmulatorCounters, FaultRoutes, RequestLogEntry, TokenResponse } from './types.js';

export interface IssueTokensOptions {
  /** Default: the first registered client. */
  clientId?: string;
  /** Default: identify email guilds connections. */
  scopes?: string[];
  /** Default: the signed-in user. */
  userId?: string;
}

export interface EmulatorControls {
  /** Every live access token expires now; refresh tokens keep working. */
  expireAllTokens(): void;
  /** Every authorization is revoked: its access and refresh tokens stop working. */
  revokeAll(): void;
  /** The next authorize call redirects with error=access_denied, as if the user clicked Cancel. */
  denyNextConsent(): void;
  /** The next `count` requests answer 429 with Discord's rate-limit body and headers. */
  rateLimitNext(count: number, retryAfterSeconds?: number, routes?: FaultRoutes): void;
  /** The next `count` requests answer `status` (default 503) with Discord's error body. */
  failNext(count: number, status?: number, routes?: FaultRoutes): void;
  /** Lifetime of tokens issued from now on (expires_in). */
  setTokenLifetime(seconds: number): void;
  /** Who is signed in to the emulated browser session (authorize grants for this user). */
  setCurrentUser(userId: string): void;
  addClient(client: EmulatorClient): void;
  registerRedirectUri(clientId: string, uri: string): void;
  /** A new authorization without the authorize round trip, as the token endpoint would answer. */
  issueTokens(options?: IssueTokensOptions): TokenResponse;
  /** The live token of an application's bot (default: the first client's), as Bot → Reset Token shows it once. */
  botToken(clientId?: string): BotTokenInfo;
  /** Bot → Reset Token: a new token; the old one answers 401 (and 4004 on the gateway) from now on. */
  resetBotToken(clientId?: string): BotTokenInfo;
  /** The guilds an application's bot was added to, with the permissions granted. */
  installations(clientId?: string): Array<{ guild_id: string; guild_name: string; permissions: string }>;
  counters(): EmulatorCounters;
  requestLog(): RequestLogEntry[];
  /** Zero the counters and clear the request log. */
  resetCounters(): void;
}

export interface BotTokenInfo {
  /** Secret, like a real bot token: tests hand it to keygate and look for it in places it must not be. */
  token: string;
  /** The emulator's name for it, as the request log shows it. */
  token_id: string;
  bot_id: string;
}

const DEFAULT_SCOPES = ['identify', 'email', 'guilds', 'connections'];
const FAULT_ROUTES: readonly FaultRoutes[] = ['token', 'api', 'all'];

export function createControls(state: EmulatorState): EmulatorControls {
  return {
    expireAllTokens: () => state.expireAllTokens(),
    revokeAll: () => state.revokeAll(),
    denyNextConsent: () => {
      state.denyConsents++;
    },
    rateLimitNext(count, retryAfterSeconds = 0.5, routes = 'api') {
      expectCount(count);
      if (typeof retryAfterSeconds !== 'number' || !Number.isFinite(retryAfterSeconds) || retryAfterSeconds < 0) {
        throw new TypeError(`Expected \`retryAfterSeconds\` to be a non-negative number, got ${show(retryAfterSeconds)}`);
      }
      state.rateLimitNext(count, retryAfterSeconds, expectRoutes(routes));
    },
    failNext(count, status = 503, routes = 'token') {
      expectCount(count);
      if (!Number.isInteger(status) || status < 400 || status > 599) {
        throw new TypeError(`Expected \`status\` to be an HTTP error status (400-599), got ${show(status)}`);
      }
      state.failNext(count, status, expectRoutes(routes));
    },
    setTokenLifetime(seconds) {
      if (!Number.isInteger(seconds) || seconds < 1) {
        throw new TypeError(`Expected \`seconds\` to be a positive integer, got ${show(seconds)}`);
      }
      state.tokenLifetimeSeconds = seconds;
    },
    setCurrentUser(userId) {
      if (!state.users.has(userId)) throw new TypeError(`Expected \`userId\` to name a known user, got ${show(userId)}`);
      state.currentUserId = userId;
    },
    addClient(client) {
      expectClient(client);
      state.addClient(client);
    },
    registerRedirectUri(clientId, uri) {
      if (!state.clients.has(clientId)) throw new TypeError(`Expected \`clientId\` to name a registered client, got ${show(clientId)}`);
      if (typeof uri !== 'string' || uri === '') throw new TypeError(`Expected \`uri\` to be a non-empty string, got ${show(uri)}`);
      state.registerRedirectUri(clientId, uri);
    },
    issueTokens(options = {}) {
      const clientId = options.clientId ?? state.clients.keys().next().value;
      if (clientId === undefined || !state.clients.has(clientId)) {
        throw new TypeError(`Expected \`clientId\` to name a registered client, got ${show(clientId)}`);
      }
      const scopes = options.scopes ?? DEFAULT_SCOPES;
      if (!Array.isArray(scopes) || scopes.length === 0 || scopes.some((s) => !KNOWN_SCOPES.has(s))) {
        throw new TypeError(`Expected \`scopes\` to be a non-empty list of Discord scopes, got ${show(scopes)}`);
      }
      const userId = options.userId ?? state.currentUserId;
      if (!state.users.has(userId)) throw new TypeError(`Expected \`userId\` to name a known user, got ${show(userId)}`);
      return state.createGrant(clientId, [...new Set(scopes)], userId);
    },
    botToken(clientId) {
      const token = state.bots.tokenOf(botClient(state, clientId));
      return { token: token!.value, token_id: token!.id, bot_id: token!.bot.id };
    },
    resetBotToken(clientId) {
      const token = state.bots.reset(botClient(state, clientId));
      return { token: token!.value, token_id: token!.id, bot_id: token!.bot.id };
    },
    installations: (clientId) =>
      state.bots
        .installations(botClient(state, clientId))
        .map((i) => ({ guild_id: i.guild.id, guild_name: i.guild.name, permissions: i.permissions })),
    counters: () => ({ ...state.counters }),
    requestLog: () => state.requestLog(),
    resetCounters: () => state.resetCounters(),
  };
}

/** A registered client with a bot: the one named, or the first. */
function botClient(state: EmulatorState, clientId: string | undefined): string {
  const id = clientId ?? state.clients.keys().next().value;
  if (id === undefined || !state.clients.get(id)?.bot) {
    throw new TypeError(`Expected \`clientId\` to name a registered client with a bot, got ${show(clientId)}`);
  }
  return id;
}

function expectCount(count: unknown): asserts count is number {
  if (!Number.isInteger(count) || (count as number) < 0) {
    throw new TypeError(`Expected \`count\` to be a non-negative integer, got ${show(count)}`);
  }
}

function expectRoutes(routes: unknown): FaultRoutes {
  if (!FAULT_ROUTES.includes(routes as FaultRoutes)) {
    throw new TypeError(`Expected \`routes\` to be one of token, api, all, got ${show(routes)}`);
  }
  return routes as FaultRoutes;
}

function expectClient(client: unknown): asserts client is EmulatorClient {
  if (typeof client !== 'object' || client === null) {
    throw new TypeError(`Expected \`client\` to be an object, got ${show(client)}`);
  }
  const c = client as Partial<EmulatorClient>;
  if (typeof c.client_id !== 'string' || !/^\S+$/.test(c.client_id)) {
    throw new TypeError(`Expected \`client_id\` to be a non-empty string, got ${show(c.client_id)}`);
  }
  if (typeof c.client_secret !== 'string' || c.client_secret === '') {
    throw new TypeError('Expected `client_secret` to be a non-empty string');
  }
  if (!Array.isArray(c.redirect_uris) || !c.redirect_uris.every((u) => typeof u === 'string' && u !== '')) {
    throw new TypeError(`Expected \`redirect_uris\` to be a list of non-empty strings, got ${show(c.redirect_uris)}`);
  }
}

/** `\`-1\` (number)`, the way execa shows a bad value. */
function show(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return `\`${text}\` (${Array.isArray(value) ? 'array' : typeof value})`;
}
