// The REST API under /api/v10 (and /api): the routes an OAuth2 bearer token can use, plus an upload
// target for the proxy's tests. Checks run in Discord's order: route, method, rate limit, token, scope.
// The hot path is a Map lookup for the route and one for the token; nothing else is computed.
import { createHash } from 'node:crypto';
import { botApi, botCredential, isBotOnly, type SharedRoute } from './bot-api.js';
import { answerFault } from './faults.js';
import { toolRoute } from './tools-routes.js';
import { httpError, json, type Exchange } from './http.js';
import { application, connection, currentUser, discordTimestamp, guildMember, partialGuild, partialUser } from './payloads.js';
import type { AccessToken } from './state.js';
import type { EmulatorUser } from './types.js';

type Handler = (ex: Exchange, token: AccessToken, user: EmulatorUser, path: string) => void | Promise<void>;

/** `method` `*` accepts any. `scopes`: null needs no token; [] any valid token; else one of these. */
export type ApiRoute =
  { method: string; scopes: null; handle: (ex: Exchange) => void } | { method: string; scopes: readonly string[]; handle: Handler };

const ROUTES = new Map<string, ApiRoute>([
  ['/gateway', { method: 'GET', scopes: null, handle: (ex) => json(ex, 200, { url: 'wss://gateway.discord.gg' }) }],
  ['/users/@me', { method: 'GET', scopes: ['identify', 'email'], handle: getCurrentUser }],
  ['/oauth2/@me', { method: 'GET', scopes: [], handle: getAuthorization }],
  ['/users/@me/guilds', { method: 'GET', scopes: ['guilds'], handle: getGuilds }],
  ['/users/@me/connections', { method: 'GET', scopes: ['connections'], handle: getConnections }],
  // Not Discord's: reads the whole body and reports its size and digest (the proxy's upload target).
  ['/__echo', { method: '*', scopes: [], handle: echo }],
]);
const MEMBER_PATH = /^\/users\/@me\/guilds\/(\d{1,20})\/member$/;
const MEMBER_ROUTE: ApiRoute = { method: 'GET', scopes: ['guilds.members.read'], handle: getMember };
/** A route that needs a bot token: no Bearer token has a scope for it, so it gets 401. */
const BOT_ONLY_ROUTE: ApiRoute = { method: 'GET', scopes: ['bot-token-only'], handle: () => undefined };

/** The routes a bot token may use too: those needing no token, and the echo target. */
function sharedRoute(path: string): SharedRoute | undefined {
  const route = ROUTES.get(path) ?? toolRoute(path);
  if (!route) return undefined;
  if (route.scopes === null) return { method: route.method, needsToken: false, handle: (ex) => route.handle(ex) };
  if (path === '/__echo') return { method: route.method, needsToken: true, handle: (ex, tokenId) => echo(ex, { id: tokenId ?? '' }) };
  return undefined;
}

export async function api(ex: Exchange, path: string): Promise<void> {
  const { state } = ex;
  state.counters.apiCalls++;
  const bot = botCredential(ex);
  if (bot !== undefined) return botApi(ex, path, bot, sharedRoute);
  const route =
    ROUTES.get(path) ?? toolRoute(path) ?? (MEMBER_PATH.test(path) ? MEMBER_ROUTE : isBotOnly(path) ? BOT_ONLY_ROUTE : undefined);
  if (!route) return httpError(ex, 404);
  if (route.method !== '*' && route.method !== ex.method) return httpError(ex, 405);
  const fault = state.takeFault('api');
  if (fault) return answerFault(ex, fault);
  if (route.scopes === null) return route.handle(ex);

  const token = bearer(ex);
  const access = token === undefined ? undefined : state.accessToken(token);
  if (access) ex.tokenId = access.id;
  const user = access ? state.users.get(access.grant.userId) : undefined;
  // Discord answers a missing scope exactly like a bad token: 401 {"message": "401: Unauthorized",
  // "code": 0}, not 403 (e.g. /users/@me/guilds without `guilds`; reboxer/discord-oauth2#4).
  const scopes = route.scopes;
  const scoped = access !== undefined && (scopes.length === 0 || scopes.some((s) => access.grant.scopeSet.has(s)));
  if (!access || !user || access.expiresAt <= state.now() || !scoped) {
    state.counters.unauthorized++;
    return httpError(ex, 401);
  }
  return route.handle(ex, access, user, path);
}

function bearer(ex: Exchange): string | undefined {
  const header = ex.req.headers.authorization;
  if (header === undefined || header.length <= 7) return undefined;
  if (!header.startsWith('Bearer ') && header.slice(0, 7).toLowerCase() !== 'bearer ') return undefined;
  return header.slice(7).trim();
}

function getCurrentUser(ex: Exchange, token: AccessToken, user: EmulatorUser): void {
  json(ex, 200, currentUser(user, token.grant.scopeSet.has('email')));
}

function getAuthorization(ex: Exchange, token: AccessToken, user: EmulatorUser): void {
  const client = ex.state.clients.get(token.grant.clientId);
  const body: Record<string, unknown> = {
    application: client ? application(client) : { id: token.grant.clientId },
    scopes: token.grant.scopes,
    expires: discordTimestamp(token.expiresAt),
  };
  if (token.grant.scopeSet.has('identify')) body.user = partialUser(user);
  json(ex, 200, body);
}

function getConnections(ex: Exchange, _token: AccessToken, user: EmulatorUser): void {
  json(ex, 200, (user.connections ?? []).map(connection));
}

function getMember(ex: Exchange, _token: AccessToken, user: EmulatorUser, path: string): void {
  const guildId = MEMBER_PATH.exec(path)![1];
  const guild = user.guilds?.find((g) => g.id === guildId);
  if (!guild) return json(ex, 404, { message: 'Unknown Guild', code: 10004 });
  json(ex, 200, guildMember(user, guild));
}

/** GET /users/@me/guilds: sorted by id; `after`/`before` page by id, `limit` 1-200 (default 200). */
function getGuilds(ex: Exchange, _token: AccessToken, user: EmulatorUser): void {
  const query = new URLSearchParams(ex.query);
  const limitText = query.get('limit');
  let limit = 200;
  if (limitText !== null) {
    limit = Number(limitText);
    if (!/^\d+$/.test(limitText)) return invalidForm(ex, 'limit', 'NUMBER_TYPE_COERCE', `Value "${limitText}" is not int.`);
    if (limit < 1) return invalidForm(ex, 'limit', 'NUMBER_TYPE_MIN', 'int value should be greater than or equal to 1.');
    if (limit > 200) return invalidForm(ex, 'limit', 'NUMBER_TYPE_MAX', 'int value should be less than or equal to 200.');
  }
  const before = query.get('before');
  const after = query.get('after');
  for (const [field, value] of [
    ['before', before],
    ['after', after],
  ] as const) {
    if (value !== null && !/^\d{1,20}$/.test(value)) {
      return invalidForm(ex, field, 'NUMBER_TYPE_COERCE', `Value "${value}" is not snowflake.`);
    }
  }
  let guilds = [...(user.guilds ?? [])].sort((a, b) => compareSnowflakes(a.id, b.id));
  if (after !== null) {
    guilds = guilds.filter((g) => compareSnowflakes(g.id, after) > 0).slice(0, limit);
  } else if (before !== null) {
    guilds = guilds.filter((g) => compareSnowflakes(g.id, before) < 0).slice(-limit);
  } else {
    guilds = guilds.slice(0, limit);
  }
  const withCounts = /^(true|1)$/i.test(query.get('with_counts') ?? '');
  json(
    ex,
    200,
    guilds.map((g) => partialGuild(g, withCounts)),
  );
}

async function echo(ex: Exchange, token: { id: string }): Promise<void> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of ex.req as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    hash.update(chunk);
  }
  const { authorization, ...headers } = ex.req.headers;
  // The scheme only (Bearer or Bot): the token itself is never echoed.
  const scheme = authorization?.split(' ', 1)[0] ?? null;
  json(ex, 200, {
    method: ex.method,
    query: ex.query,
    bytes,
    sha256: hash.digest('hex'),
    token_id: token.id,
    auth_scheme: scheme,
    headers,
  });
}

/** Discord's validation error: 400 {"message": "Invalid Form Body", "code": 50035, "errors": {...}}. */
function invalidForm(ex: Exchange, field: string, code: string, message: string): void {
  json(ex, 400, { message: 'Invalid Form Body', code: 50035, errors: { [field]: { _errors: [{ code, message }] } } });
}

/** Snowflakes are unsigned 64-bit decimals without leading zeros: compare by length, then text. */
function compareSnowflakes(a: string, b: string): number {
  const stripped = (s: string) => s.replace(/^0+(?=\d)/, '');
  const x = stripped(a);
  const y = stripped(b);
  return x.length - y.length || (x < y ? -1 : x > y ? 1 : 0);
}
