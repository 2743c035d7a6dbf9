// The admin API under /__emulator/, so out-of-process tests and benchmarks can drive the emulator.
// Each route calls the matching control; bodies are JSON with snake_case fields. Admin requests are
// neither counted nor logged, so reading the counters does not change them.
import type { EmulatorControls } from './controls.js';
import { httpError, json, readBody, type Exchange } from './http.js';

type Body = Record<string, unknown>;

interface AdminRoute {
  method: 'GET' | 'POST';
  /** Returns the response body; throws TypeError for a bad request. */
  run(controls: EmulatorControls, body: Body): unknown;
}

const OK = { ok: true };

export const ADMIN_ROUTES: Record<string, AdminRoute> = {
  '/__emulator/expire': { method: 'POST', run: (c) => (c.expireAllTokens(), OK) },
  '/__emulator/revoke': { method: 'POST', run: (c) => (c.revokeAll(), OK) },
  '/__emulator/deny-next-consent': { method: 'POST', run: (c) => (c.denyNextConsent(), OK) },
  '/__emulator/rate-limit': {
    method: 'POST',
    run: (c, b) => (c.rateLimitNext(b.count as number, optional(b.retry_after), optional(b.routes)), OK),
  },
  '/__emulator/fail': {
    method: 'POST',
    run: (c, b) => (c.failNext(b.count as number, optional(b.status), optional(b.routes)), OK),
  },
  '/__emulator/token-lifetime': { method: 'POST', run: (c, b) => (c.setTokenLifetime(b.seconds as number), OK) },
  '/__emulator/current-user': { method: 'POST', run: (c, b) => (c.setCurrentUser(b.user_id as string), OK) },
  '/__emulator/clients': { method: 'POST', run: (c, b) => (c.addClient(b as never), OK) },
  '/__emulator/redirect-uris': {
    method: 'POST',
    run: (c, b) => (c.registerRedirectUri(b.client_id as string, b.redirect_uri as string), OK),
  },
  '/__emulator/tokens': {
    method: 'POST',
    run: (c, b) => c.issueTokens({ clientId: optional(b.client_id), scopes: optional(b.scopes), userId: optional(b.user_id) }),
  },
  '/__emulator/bot-token': { method: 'POST', run: (c, b) => c.botToken(optional(b.client_id)) },
  '/__emulator/bot-token/reset': { method: 'POST', run: (c, b) => c.resetBotToken(optional(b.client_id)) },
  '/__emulator/installations': { method: 'POST', run: (c, b) => c.installations(optional(b.client_id)) },
  '/__emulator/reset': { method: 'POST', run: (c) => (c.resetCounters(), OK) },
  '/__emulator/counters': { method: 'GET', run: (c) => c.counters() },
  '/__emulator/log': { method: 'GET', run: (c) => c.requestLog() },
};

export async function admin(ex: Exchange, controls: EmulatorControls): Promise<void> {
  ex.log = false;
  const route = ADMIN_ROUTES[ex.path];
  if (!route) return httpError(ex, 404);
  if (route.method !== ex.method) return httpError(ex, 405);
  const raw = await readBody(ex.req, 64 * 1024);
  let body: Body = {};
  try {
    if (!raw) throw new TypeError('Expected a JSON body of at most 64 KiB');
    const text = raw.toString('utf8').trim();
    if (text !== '') body = JSON.parse(text) as Body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new TypeError('Expected a JSON object body');
    json(ex, 200, route.run(controls, body));
  } catch (err) {
    json(ex, 400, { error: err instanceof Error ? err.message : String(err) });
  }
}

/** JSON has no undefined: a missing or null field means "use the default". */
function optional<T>(value: unknown): T | undefined {
  return value === null || value === undefined ? undefined : (value as T);
}
