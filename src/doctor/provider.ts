// The checks that ask the provider: client credentials, the redirect URI, the clock, and each
// connection's live status. Network failures become failed checks with the same hints as elsewhere.
import { networkHint, networkReason, request } from '../net.js';
import type { ProviderDefinition } from '../provider/types.js';
import type { Store } from '../store/index.js';
import type { ClientCredentials } from '../vault/types.js';
import { envPrefix } from '../provider/env.js';
import { authorizeUrl, redirectUri } from '../oauth/authorize.js';
import { checkClient } from '../oauth/client-check.js';
import { checkHealth } from '../lifecycle/health.js';
import { describeUnreadable } from '../connection/unreadable.js';
import { loginCommand } from '../connection/hints.js';
import { type Check, fail, pass, skip } from './types.js';

/** More than this between the provider's clock and ours and expiry decisions go wrong. */
export const MAX_SKEW_MS = 60_000;

export interface ClientSource {
  credentials: ClientCredentials;
  source: 'stored' | 'environment';
}

/** The client credentials login would use without asking: stored, else the environment. */
export async function findClient(provider: ProviderDefinition, store: Store, env: NodeJS.ProcessEnv): Promise<ClientSource | undefined> {
  const stored = await store.readClient(provider.name).catch(() => undefined);
  if (stored) return { credentials: stored, source: 'stored' };
  const prefix = envPrefix(provider.name);
  const id = env[`${prefix}_CLIENT_ID`]?.trim();
  if (id)
    return { credentials: { client_id: id, client_secret: env[`${prefix}_CLIENT_SECRET`]?.trim() || undefined }, source: 'environment' };
  return undefined;
}

export async function clientCheck(provider: ProviderDefinition, client: ClientSource | undefined): Promise<Check> {
  const id = `${provider.name}.client`;
  const title = `${provider.display_name} client credentials`;
  const prefix = envPrefix(provider.name);
  if (!client)
    return fail(
      id,
      title,
      'none stored and none in the environment',
      `set ${prefix}_CLIENT_ID and ${prefix}_CLIENT_SECRET from your app's OAuth2 page`,
    );
  try {
    const result = await checkClient(provider, client.credentials);
    const from = client.source === 'stored' ? 'stored' : `from ${prefix}_CLIENT_ID/_SECRET`;
    if (result.verdict === 'valid') return pass(id, title, `${result.detail} (${from})`);
    if (result.verdict === 'unchecked') return skip(id, title, result.detail);
    const fix =
      client.source === 'stored'
        ? `set ${prefix}_CLIENT_ID and ${prefix}_CLIENT_SECRET to your app's values and run \`${loginCommand(provider.name, 'default', { force: true })}\``
        : `set ${prefix}_CLIENT_ID and ${prefix}_CLIENT_SECRET to the values on your app's OAuth2 page`;
    return fail(id, title, `${result.detail} (${from})`, fix);
  } catch (err) {
    return fail(id, title, (err as Error).message, (err as { hint?: string }).hint ?? networkHint(err));
  }
}

/**
 * The exact redirect URI to register, and whether the provider knows it. The authorize endpoint is
 * asked without following redirects: Discord-style servers answer an unregistered redirect URI with
 * an error page and a registered one with a redirect to it. A 200 (a sign-in page) says nothing.
 */
export async function redirectCheck(provider: ProviderDefinition, client: ClientSource | undefined, port: number): Promise<Check> {
  const id = `${provider.name}.redirect_uri`;
  const title = 'redirect URI';
  const uri = redirectUri(port);
  const register = `register exactly ${uri} in your app's OAuth2 settings (scheme, host, port and path; no trailing slash)`;
  if (!client) return skip(id, title, `${uri} (no client id to check it with)`);
  const url = authorizeUrl(provider, {
    clientId: client.credentials.client_id,
    redirectUri: uri,
    scopes: provider.oauth2.default_scopes,
    state: 'keygate-doctor',
  });
  try {
    const response = await request(url, { signal: AbortSignal.timeout(15_000) });
    const body = await response.body.text();
    const location = response.headers.location;
    if (response.statusCode >= 300 && response.statusCode < 400 && typeof location === 'string' && location.startsWith(uri)) {
      return pass(id, title, `${uri} is registered`);
    }
    if (response.statusCode >= 400 && /redirect_uri/i.test(body))
      return fail(id, title, `${provider.display_name} does not know ${uri}`, register);
    if (response.statusCode >= 400 && /unknown application|client_id/i.test(body)) {
      return fail(
        id,
        title,
        `${provider.display_name} does not know client id ${client.credentials.client_id}`,
        `set ${envPrefix(provider.name)}_CLIENT_ID to your app's client id`,
      );
    }
    return skip(id, title, `${uri} (cannot be confirmed without signing in; ${register})`);
  } catch (err) {
    return fail(id, title, `GET ${new URL(url).host}${new URL(url).pathname} failed: ${networkReason(err)}`, networkHint(err));
  }
}

/** Our clock against the provider's `Date` header: a skewed clock refreshes too late or too often. */
export async function clockCheck(provider: ProviderDefinition, now: () => number = Date.now): Promise<Check> {
  const id = `${provider.name}.clock`;
  const title = 'clock';
  const url = provider.api.base_url;
  try {
    const sent = now();
    const response = await request(url, { signal: AbortSignal.timeout(15_000) });
    await response.body.dump();
    const received = now();
    const date = Date.parse(String(response.headers.date ?? ''));
    if (Number.isNaN(date)) return skip(id, title, `${new URL(url).host} sent no Date header`);
    // Date has whole seconds: compare with the middle of the round trip, allow the rounding.
    const skew = date - (sent + received) / 2;
    const seconds = Math.round(skew / 1000);
    if (Math.abs(skew) > MAX_SKEW_MS) {
      return fail(
        id,
        title,
        `this machine's clock is ${Math.abs(seconds)} s ${skew > 0 ? 'behind' : 'ahead of'} ${new URL(url).host}`,
        'enable time synchronisation (e.g. `timedatectl set-ntp true`)',
      );
    }
    return pass(id, title, `within ${Math.max(1, Math.abs(seconds))} s of ${new URL(url).host}`);
  } catch (err) {
    return fail(id, title, `GET ${new URL(url).host} failed: ${networkReason(err)}`, networkHint(err));
  }
}

/** Each stored connection of this provider, checked live as `keygate status` does. */
export async function connectionChecks(provider: ProviderDefinition, store: Store, only?: string): Promise<Check[]> {
  const checks: Check[] = [];
  for (const entry of await store.list()) {
    if (entry.provider !== provider.name || (only && entry.connection !== only)) continue;
    const id = `${provider.name}/${entry.connection}.connection`;
    const title = `connection ${provider.name}/${entry.connection}`;
    if (entry.error) {
      const unreadable = describeUnreadable(entry.provider, entry.connection, entry.error);
      checks.push(fail(id, title, `unreadable: ${unreadable.error}`, unreadable.hint));
      continue;
    }
    try {
      const health = await checkHealth(store, provider, entry.connection);
      if (health.healthy)
        checks.push(pass(id, title, `connected${health.account_name ? ` as ${health.account_name}` : ''}; ${health.detail}`));
      else checks.push(fail(id, title, `${health.status}: ${health.detail}`, health.hint ?? 'see `keygate status`'));
    } catch (err) {
      checks.push(fail(id, title, (err as Error).message, (err as { hint?: string }).hint ?? networkHint(err)));
    }
  }
  if (only && checks.length === 0)
    checks.push(
      fail(
        `${provider.name}/${only}.connection`,
        `connection ${provider.name}/${only}`,
        'not connected',
        `run \`${loginCommand(provider.name, only)}\``,
      ),
    );
  return checks;
}
