// Resolving the OAuth client credentials: stored → <PROVIDER>_CLIENT_ID/_CLIENT_SECRET → a prompt on
// a TTY. There is deliberately no flag for the secret: argv is visible to every local user.
import { InterruptedError, KeygateError } from '../errors.js';
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
  options: { env: NodeJS.ProcessEnv; interactive: boolean; preferNew?: boolean; browserForm?: boolean },
): Promise<ResolvedClient> {
  // `login --force` prefers new values (environment, then a prompt) so a wrong stored secret can be
  // replaced, but still falls back to the stored ones: with no terminal and no environment, refusing
  // would leave a revoked or unreadable connection with no way forward.
  const stored = async () => {
    const credentials = await vault.readClient(provider.name).catch(() => undefined); // unreadable: ask anew
    return credentials && ({ credentials, source: 'stored' } as const);
  };
  if (!options.preferNew) {
    const found = await stored();
    if (found) return found;
  }
  const prefix = envPrefix(provider.name);
  const id = options.env[`${prefix}_CLIENT_ID`]?.trim();
  const secret = options.env[`${prefix}_CLIENT_SECRET`]?.trim();
  if (id) return { credentials: { client_id: id, client_secret: secret || undefined }, source: 'environment' };
  if (options.interactive) return prompt(provider);
  if (options.preferNew) {
    const found = await stored();
    if (found) return found;
  }
  if (options.browserForm) return { source: 'form' };
  throw new KeygateError(`no OAuth client credentials for ${provider.display_name}`, {
    hint: `set ${prefix}_CLIENT_ID and ${prefix}_CLIENT_SECRET (from your app in the provider's developer portal), or run in a terminal to be asked`,
  });
}

async function prompt(provider: ProviderDefinition): Promise<ResolvedClient> {
  const { input, password } = await import('@inquirer/prompts');
  try {
    const client_id = (
      await input({ message: `${provider.display_name} client ID:`, validate: (v) => v.trim() !== '' || 'required' })
    ).trim();
    const client_secret = (await password({ message: `${provider.display_name} client secret (hidden):`, mask: false })).trim();
    return { credentials: { client_id, client_secret: client_secret || undefined }, source: 'prompt' };
  } catch (err) {
    // Ctrl-C at a prompt: @inquirer rejects with ExitPromptError; the user asked to stop, not a bug.
    if ((err as Error)?.name === 'ExitPromptError') throw new InterruptedError('interrupted', { cause: err });
    throw err;
  }
}
