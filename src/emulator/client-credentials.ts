// grant_type=client_credentials on POST /api/oauth2/token. Discord offers it to confidential
// applications: id and secret alone get a token for the application's owner (no refresh token),
// which is how `keygate doctor` and `keygate login` check client credentials without a browser.
// Source: Discord docs, "OAuth2 › Client Credentials Grant". The owner here is the signed-in user.
import type { EmulatorClient } from './types.js';
import { json, type Exchange } from './http.js';
import { KNOWN_SCOPES, RESTRICTED_SCOPES } from './scopes.js';

export function clientCredentials(ex: Exchange, params: URLSearchParams, client: EmulatorClient): void {
  const scopes = [...new Set((params.get('scope') ?? '').split(/\s+/).filter(Boolean))];
  const approved = new Set(client.approved_scopes ?? []);
  if (scopes.length === 0 || scopes.some((s) => !KNOWN_SCOPES.has(s) || (RESTRICTED_SCOPES.has(s) && !approved.has(s)))) {
    return json(ex, 400, { error: 'invalid_scope', error_description: 'The requested scope is invalid, unknown, or malformed.' }, NO_STORE);
  }
  const { refresh_token, ...tokens } = ex.state.createGrant(client.client_id, scopes);
  ex.state.forgetRefreshToken(refresh_token);
  ex.tokenId = ex.state.accessToken(tokens.access_token)?.id ?? null;
  json(ex, 200, tokens, NO_STORE);
}

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };
