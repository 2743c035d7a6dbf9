// Calls to the provider's token endpoints: code exchange, refresh, revocation. Form-encoded only
// (Discord rejects JSON bodies), client authentication by HTTP Basic or in the body as the
// provider file says. Errors carry the OAuth error code but never a token value.
import { KeygateError, ProviderRequestError } from '../errors.js';
import { isCertificateError, networkHint, networkReason, parseJson, request } from '../net.js';
import { connectionFlag } from '../connection/hints.js';
import type { ProviderDefinition } from '../provider/types.js';
import type { ClientCredentials, TokenSet } from '../vault/types.js';
import { envPrefix } from '../provider/env.js';

export interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in?: number;
  refresh_token?: string;
  scope?: string;
  /** Discord, with the `bot` scope: the guild the bot was added to. */
  guild?: { id?: unknown; name?: unknown };
}

/** A refusal from the token endpoint (4xx with an OAuth error code). */
export class OAuthError extends ProviderRequestError {
  constructor(
    readonly status: number,
    /** The OAuth `error` value (`invalid_grant`, ...); `code` is keygate's own, `provider_request`. */
    readonly oauthError: string,
    readonly description: string | undefined,
    endpoint: string,
    hint?: string,
  ) {
    super(`${endpoint} refused the request: ${oauthError}${description ? ` (${description})` : ''}`, {
      hint: hint ?? 'check the provider settings and try again',
    });
  }
}

/** The network failed or the provider answered 5xx/garbage: not a verdict on the credential. */
export class TransientProviderError extends ProviderRequestError {}

/** Who a token call is for, so a refusal's hint names the right commands. */
export interface TokenCallContext {
  connection?: string;
}

function hintFor(code: string, provider: ProviderDefinition, context: TokenCallContext): string {
  const prefix = envPrefix(provider.name);
  const login = `keygate login ${provider.name}${connectionFlag(context.connection ?? 'default')}`;
  switch (code) {
    case 'invalid_client':
      return `set ${prefix}_CLIENT_ID and ${prefix}_CLIENT_SECRET to your app's values and run \`${login} --force\` (it replaces the stored ones)`;
    case 'invalid_grant':
      return `the code or refresh token is no longer valid; run \`${login}\``;
    default:
      return 'check the provider settings and try again';
  }
}

const TIMEOUT_MS = 15_000;

async function postForm(
  provider: ProviderDefinition,
  url: string,
  client: ClientCredentials,
  form: Record<string, string>,
  what: string,
): Promise<{ status: number; body: unknown }> {
  const body = new URLSearchParams(form);
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
    'user-agent': 'keygate (https://github.com/keygate/keygate, 0.1)',
  };
  if (provider.oauth2.client_auth === 'basic') {
    // RFC 6749 §2.3.1: both parts are form-urlencoded before base64.
    const user = encodeURIComponent(client.client_id);
    const pass = encodeURIComponent(client.client_secret ?? '');
    headers.authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
  } else {
    body.set('client_id', client.client_id);
    if (client.client_secret) body.set('client_secret', client.client_secret);
  }
  let response;
  try {
    response = await request(url, {
      method: 'POST',
      headers,
      body: body.toString(),
      headersTimeout: TIMEOUT_MS,
      bodyTimeout: TIMEOUT_MS,
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (err) {
    if (err instanceof KeygateError) throw err; // a bad KEYGATE_CONNECT_TO, named as such
    // A certificate problem is not transient: retrying a refresh against it only wastes the budget.
    const Failure = isCertificateError(err) ? ProviderRequestError : TransientProviderError;
    throw new Failure(`${what} at ${new URL(url).host} failed: ${networkReason(err)}`, { hint: networkHint(err), cause: err });
  }
  const text = await response.body.text();
  return { status: response.statusCode, body: text === '' ? {} : parseJson(text) };
}

async function tokenCall(
  provider: ProviderDefinition,
  client: ClientCredentials,
  form: Record<string, string>,
  what: string,
  context: TokenCallContext = {},
): Promise<TokenResponse> {
  const url = provider.oauth2.token_url;
  const { status, body } = await postForm(provider, url, client, form, what);
  const data = (body ?? {}) as Record<string, unknown>;
  if (status >= 200 && status < 300 && typeof data.access_token === 'string') {
    return data as unknown as TokenResponse;
  }
  if (status >= 400 && status < 500 && typeof data.error === 'string') {
    throw new OAuthError(
      status,
      data.error,
      typeof data.error_description === 'string' ? data.error_description : undefined,
      `${provider.display_name}'s token endpoint`,
      hintFor(data.error, provider, context),
    );
  }
  throw new TransientProviderError(`${what} at ${new URL(url).host} failed: HTTP ${status}`, {
    hint: 'the provider may be having trouble; try again shortly',
  });
}

export function exchangeCode(
  provider: ProviderDefinition,
  client: ClientCredentials,
  params: { code: string; redirectUri: string; verifier?: string; connection?: string },
): Promise<TokenResponse> {
  const form: Record<string, string> = { grant_type: 'authorization_code', code: params.code, redirect_uri: params.redirectUri };
  if (params.verifier) form.code_verifier = params.verifier;
  return tokenCall(provider, client, form, 'code exchange', { connection: params.connection });
}

/**
 * The client-credentials grant (RFC 6749 §4.4), which Discord offers confidential apps: it checks the
 * client id and secret without a browser. Used by `login` (before the wait) and `doctor`.
 */
export function clientCredentialsGrant(provider: ProviderDefinition, client: ClientCredentials, scope: string): Promise<TokenResponse> {
  return tokenCall(provider, client, { grant_type: 'client_credentials', scope }, 'client credentials check');
}

export function refreshTokens(provider: ProviderDefinition, client: ClientCredentials, refreshToken: string): Promise<TokenResponse> {
  return tokenCall(provider, client, { grant_type: 'refresh_token', refresh_token: refreshToken }, 'token refresh');
}

/** Revokes at the provider (Discord revokes the whole authorization for any of its tokens). */
export async function revokeToken(
  provider: ProviderDefinition,
  client: ClientCredentials,
  token: string,
  hint: 'access_token' | 'refresh_token',
): Promise<void> {
  const url = provider.oauth2.revocation_url;
  if (!url) return;
  const { status, body } = await postForm(provider, url, client, { token, token_type_hint: hint }, 'revocation');
  if (status < 200 || status >= 300) {
    const code = typeof (body as { error?: unknown })?.error === 'string' ? (body as { error: string }).error : `HTTP ${status}`;
    throw new ProviderRequestError(`revocation at ${new URL(url).host} failed: ${code}`, {
      hint: 'revoke the app in the provider’s settings if it still shows',
    });
  }
}

/** The stored form of a token response. Scopes are the granted ones, from the response. */
export function toTokenSet(response: TokenResponse, requestedScopes: string[], now = Date.now(), previous?: TokenSet): TokenSet {
  const granted =
    typeof response.scope === 'string' ? response.scope.split(/[ ,]+/).filter(Boolean) : (previous?.scopes ?? requestedScopes);
  return {
    access_token: response.access_token,
    // Refresh tokens rotate (Discord issues a new one each time); keep the old one only if none came.
    refresh_token: response.refresh_token ?? previous?.refresh_token,
    token_type: response.token_type ?? 'Bearer',
    expires_at: typeof response.expires_in === 'number' ? new Date(now + response.expires_in * 1000).toISOString() : undefined,
    scopes: granted,
  };
}
