// How the proxy gets the tokens it injects. The proxy only knows this interface; the refresh-aware
// implementation lives in src/lifecycle (createTokenAccess), `staticTokenAccess` is the plain one.
import { fixHint } from '../connection/hints.js';
import { ConnectionNotFoundError } from '../errors.js';
import type { Vault } from '../vault/types.js';

export interface TokenAccess {
  /** The access token to inject now (the lead's lifecycle code refreshes first when it expires soon). */
  getToken(provider: string, connection: string): Promise<string>;
  /** Upstream said 401 to a request sent with `token`: return a new token to replay once, or undefined to pass the 401 through. */
  onUnauthorized(provider: string, connection: string, token: string): Promise<string | undefined>;
}

/** Serves each connection's stored access token (read once, kept in memory); never refreshes. */
export function staticTokenAccess(vault: Pick<Vault, 'read'>): TokenAccess {
  const tokens = new Map<string, Promise<string>>();
  return {
    getToken(provider, connection) {
      const key = `${provider}/${connection}`;
      let token = tokens.get(key);
      if (!token) {
        token = vault.read(provider, connection).then((record) => {
          if (!record) {
            throw new ConnectionNotFoundError(`${key} is not connected`, { hint: fixHint(provider, connection, 'not_connected') });
          }
          return record.tokens.access_token;
        });
        tokens.set(key, token);
        token.catch(() => tokens.delete(key));
      }
      return token;
    },
    async onUnauthorized() {
      return undefined;
    },
  };
}
