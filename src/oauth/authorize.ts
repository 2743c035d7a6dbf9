// The authorization URL and the exact redirect URI keygate registers with providers.
import type { ProviderDefinition } from '../provider/types.js';
import type { Pkce } from './pkce.js';

export const CALLBACK_PATH = '/auth/callback/oauth';

/** Exactly this string must be registered at the provider (scheme, host, port, path; no trailing slash). */
export function redirectUri(port: number): string {
  return `http://127.0.0.1:${port}${CALLBACK_PATH}`;
}

export interface AuthorizeParams {
  clientId: string;
  redirectUri: string;
  scopes: string[];
  state: string;
  pkce?: Pkce;
}

export function authorizeUrl(provider: ProviderDefinition, params: AuthorizeParams): string {
  const url = new URL(provider.oauth2.authorize_url);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', params.clientId);
  url.searchParams.set('redirect_uri', params.redirectUri);
  url.searchParams.set('scope', params.scopes.join(provider.oauth2.scope_separator ?? ' '));
  url.searchParams.set('state', params.state);
  if (params.pkce && provider.oauth2.pkce) {
    url.searchParams.set('code_challenge', params.pkce.challenge);
    url.searchParams.set('code_challenge_method', params.pkce.method);
  }
  // Discord re-shows consent only when asked; "consent" makes a re-login pick up changed scopes.
  url.searchParams.set('prompt', 'consent');
  return url.toString();
}
