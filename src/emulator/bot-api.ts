// The REST routes for requests with `Authorization: Bot <token>`. A bot token acts for the
// application's bot user: it has no scopes, never expires, and answers 401 once it was reset.
// Routes only a bot may use (GET /applications/@me, /gateway/bot, /users/{id}) answer a Bearer
// token with 401, as Discord does.
import { answerFault } from './faults.js';
import { httpError, json, type Exchange } from './http.js';
import { botApplication, botUser, partialGuild, partialUser } from './payloads.js';
import type { BotToken } from './bots.js';
import type { EmulatorState } from './state.js';

type BotHandler = (ex: Exchange, token: BotToken, path: string) => void | Promise<void>;

/** Where the emulator's gateway is; READY names RESUME_GATEWAY_URL for reconnects, as Discord does. */
export const GATEWAY_URL = 'wss://gateway.discord.gg';
export const RESUME_GATEWAY_URL = 'wss://gateway-us-east1-b.discord.gg';

const USER_PATH = /^\/users\/(\d{1,20})$/;

const ROUTES = new Map<string, BotHandler>([
  ['/users/@me', (ex, token) => json(ex, 200, botUser(token.bot))],
  ['/applications/@me', getApplication],
  ['/gateway/bot', getGatewayBot],
  [
    '/users/@me/guilds',
    (ex, token) =>
      json(
        ex,
        200,
        ex.state.bots
          .installations(token.clientId)
          .map((i) => ({ ...partialGuild(i.guild, false), owner: false, permissions: i.permissions })),
      ),
  ],
]);

/** Paths that need a bot token: a Bearer token gets 401 there. */
export function isBotOnly(path: string): boolean {
  return path === '/applications/@me' || path === '/gateway/bot' || USER_PATH.test(path);
}

/** The token of an `Authorization: Bot <token>` header, or undefined for any other header. */
export function botCredential(ex: Exchange): string | undefined {
  const header = ex.req.headers.authorization;
  if (header === undefined || header.length <= 4 || header.slice(0, 4).toLowerCase() !== 'bot ') return undefined;
  return header.slice(4).trim();
}

/** A route any kind of token may use (or none): the gateway URL, the proxy's echo target. */
export interface SharedRoute {
  method: string;
  needsToken: boolean;
  handle(ex: Exchange, tokenId: string | null): void | Promise<void>;
}

/** Serves a request made with a bot token; `shared` looks up the routes that are not bot-specific. */
export async function botApi(ex: Exchange, path: string, value: string, shared: (path: string) => SharedRoute | undefined): Promise<void> {
  const { state } = ex;
  const handler = ROUTES.get(path) ?? (USER_PATH.test(path) ? getUser : undefined);
  const common = handler ? undefined : shared(path);
  if (!handler && !common) return httpError(ex, 404);
  if (common ? common.method !== '*' && common.method !== ex.method : ex.method !== 'GET') return httpError(ex, 405);
  const fault = state.takeFault('api');
  if (fault) return answerFault(ex, fault);
  if (common && !common.needsToken) return common.handle(ex, null);
  const token = state.bots.lookup(value);
  if (!token) {
    state.counters.unauthorized++;
    return httpError(ex, 401);
  }
  ex.tokenId = token.id;
  return common ? common.handle(ex, token.id) : handler!(ex, token, path);
}

function getApplication(ex: Exchange, token: BotToken): void {
  const client = ex.state.clients.get(token.clientId)!;
  const owner = [...ex.state.users.values()][0];
  json(ex, 200, {
    ...botApplication(client, token.bot, owner),
    approximate_guild_count: ex.state.bots.installations(token.clientId).length,
  });
}

/** https://discord.com/developers/docs/events/gateway#get-gateway-bot */
function getGatewayBot(ex: Exchange): void {
  json(ex, 200, {
    url: GATEWAY_URL,
    shards: 1,
    session_start_limit: { total: 1000, remaining: 999, reset_after: 14_400_000, max_concurrency: 1 },
  });
}

/** GET /users/{id}: any known user or bot; Discord's 10013 otherwise. */
function getUser(ex: Exchange, _token: BotToken, path: string): void {
  const id = USER_PATH.exec(path)![1];
  const body = userById(ex.state, id);
  if (!body) return json(ex, 404, { message: 'Unknown User', code: 10013 });
  json(ex, 200, body);
}

export function userById(state: EmulatorState, id: string): Record<string, unknown> | undefined {
  const user = state.users.get(id);
  if (user) return partialUser(user);
  for (const client of state.clients.values()) if (client.bot?.id === id) return botUser(client.bot);
  return undefined;
}
