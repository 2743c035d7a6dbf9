// Are these client credentials right? Asked of the provider's token endpoint with the client-
// credentials grant, so neither a browser nor a user is involved. RFC 6749 §5.2: a failed client
// authentication is `invalid_client`; a refused scope comes after the client was authenticated, so
// the id and secret are right even then. A refused grant type may come first (Discord's order).
import type { ProviderDefinition } from '../provider/types.js';
import type { ClientCredentials } from '../vault/types.js';
import { OAuthError, clientCredentialsGrant, revokeToken } from './tokens.js';

export type ClientCheck =
  | { verdict: 'valid'; detail: string }
  | { verdict: 'invalid'; detail: string }
  /** Could not be told without a browser (no secret: a public client). */
  | { verdict: 'unchecked'; detail: string };

/** Network and certificate failures are thrown (with their own diagnosis), not turned into a verdict. */
export async function checkClient(provider: ProviderDefinition, client: ClientCredentials): Promise<ClientCheck> {
  if (!client.client_secret)
    return { verdict: 'unchecked', detail: `no client secret, so ${provider.display_name} cannot check the client id without a browser` };
  const scope = provider.oauth2.default_scopes[0] ?? 'identify';
  try {
    const tokens = await clientCredentialsGrant(provider, client, scope);
    // The token is for the app's owner and nobody needs it: end it now (best effort).
    await revokeToken(provider, client, tokens.access_token, 'access_token').catch(() => undefined);
    return { verdict: 'valid', detail: `${provider.display_name} accepted client id ${client.client_id} and its secret` };
  } catch (err) {
    if (!(err instanceof OAuthError)) throw err;
    if (err.oauthError === 'invalid_client')
      return {
        verdict: 'invalid',
        detail: `${provider.display_name} does not accept client id ${client.client_id} with this secret (invalid_client)`,
      };
    // Discord checks the grant type before the client, so these say nothing about the credentials.
    if (err.oauthError === 'unsupported_grant_type' || err.oauthError === 'unauthorized_client') {
      return {
        verdict: 'unchecked',
        detail: `${provider.display_name} does not offer the client-credentials grant to this app (${err.oauthError}), so the secret is checked at login`,
      };
    }
    return {
      verdict: 'valid',
      detail: `${provider.display_name} authenticated client id ${client.client_id} (the check grant itself answered ${err.oauthError})`,
    };
  }
}
