// Resolving the OAuth client credentials: stored → <PROVIDER>_CLIENT_ID/_CLIENT_SECRET → a prompt on
// a TTY. There is deliberately no flag for the secret: argv is visible to every local user.
import { KeygateError } from '../errors.js';
import { envPrefix } from '../provider/env.js';
import type { ProviderDefinition } from '../provider/types.js';
import type { ClientCredentials, Vault } from '../vault/types.js';

export type ResolvedClient =
  | { credentials: ClientCredentials; source: 'stored' | 'environment' | 'prompt' }
  /** Nothing available here: ask in the browser, on a form served by the callback server. */
  | { credentials?: undefined; source: 'form' };

export async function resolveClient(
  provider: ProviderDefinition,
  vault: Vault,
  options: { env: NodeJS.ProcessEnv; interactive: boolean; skipStored?: boolean; browserForm?: boolean },
): Promise<ResolvedClient> {
  if (!options.skipStored) {
    const stored = await vault.readClient(provider.name);
    if (stored) return { credentials: stored, source: 'stored' };
  }
  const prefix = envPrefix(provider.name);
  const id = options.env[`${prefix}_CLIENT_ID`]?.trim();
  const secret = options.env[`${prefix}_CLIENT_SECRET`]?.trim();
  if (id) return { credentials: { client_id: id, client_secret: secret || undefined }, source: 'environment' };
  if (!options.interactive && options.browserForm) return { source: 'form' };
  if (!options.interactive) {
    throw new KeygateError(`no OAuth client credentials for ${provider.display_name}`, {
      hint: `set ${prefix}_CLIENT_ID and ${prefix}_CLIENT_SECRET (from your app in the provider's developer portal), or run in a terminal to be asked`,
    });
  }
  const { input, password } = await import('@inquirer/prompts');
  const client_id = (await input({ message: `${provider.display_name} client ID:`, validate: (v) => v.trim() !== '' || 'required' })).trim();
  const client_secret = (await password({ message: `${provider.display_name} client secret (hidden):`, mask: false })).trim();
  return { credentials: { client_id, client_secret: client_secret || undefined }, source: 'prompt' };
}
