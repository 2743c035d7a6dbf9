// The authorization URL and the exact redirect URI keygate registers with providers.
import type { ConnectTarget } from '../net.js';
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

/**
 * The authorize URL as a browser can reach it. A browser knows nothing of KEYGATE_CONNECT_TO, so when
 * that sends the authorize host elsewhere (discord.com to the local emulator), the browser gets the
 * address the connection really goes to, https://127.0.0.1:<port>/..., whose certificate the emulator
 * also holds. Otherwise the URL is unchanged.
 */
export function reachableUrl(url: string, connectTo: Map<string, ConnectTarget>): string {
  const parsed = new URL(url);
  const port = Number(parsed.port) || (parsed.protocol === 'https:' ? 443 : 80);
  const target = connectTo.get(`${parsed.hostname.toLowerCase()}:${port}`);
  if (!target) return url;
  parsed.host = target.host.includes(':') ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`;
  return parsed.toString();
}
