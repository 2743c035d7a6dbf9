// Who logged in: the provider file names the endpoint and fields (for Discord, GET /users/@me, id and
// username), so nothing provider-specific is hard-coded here.
import { KeygateError, ProviderRequestError } from '../errors.js';
import { networkHint, networkReason, parseJson, request } from '../net.js';
import type { ProviderDefinition } from '../provider/types.js';
import type { Account } from '../vault/types.js';

export function authorizationValue(provider: ProviderDefinition, token: string): string {
  return provider.injection.format.replace('{token}', token);
}

/** GET base_url + path with the token; returns status and parsed JSON (undefined when not JSON). */
export async function apiGet(
  provider: ProviderDefinition,
  path: string,
  token: string,
  format = provider.injection.format,
): Promise<{ status: number; body: unknown }> {
  const url = `${provider.api.base_url.replace(/\/$/, '')}${path}`;
  try {
    const response = await request(url, {
      method: 'GET',
      headers: { [provider.injection.header.toLowerCase()]: format.replace('{token}', token), accept: 'application/json' },
      signal: AbortSignal.timeout(15_000),
    });
    return { status: response.statusCode, body: parseJson(await response.body.text()) };
  } catch (err) {
    if (err instanceof KeygateError) throw err; // a bad KEYGATE_CONNECT_TO, named as such
    throw new ProviderRequestError(`GET ${new URL(url).host}${new URL(url).pathname} failed: ${networkReason(err)}`, {
      hint: networkHint(err),
      cause: err,
    });
  }
}

export async function fetchAccount(provider: ProviderDefinition, token: string): Promise<Account | null> {
  const spec = provider.api.account;
  if (!spec) return null;
  const { status, body } = await apiGet(provider, spec.path, token);
  if (status !== 200 || typeof body !== 'object' || body === null) {
    throw new ProviderRequestError(`${provider.display_name} did not return the account (GET ${spec.path}: HTTP ${status})`, {
      hint: 'the token may lack the scope this needs (Discord: identify); try logging in again',
    });
  }
  const data = body as Record<string, unknown>;
  return { id: scalar(data[spec.id_field]), name: scalar(data[spec.name_field]) };
}

/** An account field as text: strings as they are, numbers (other providers' ids) in decimal, anything else empty. */
export function scalar(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
}
