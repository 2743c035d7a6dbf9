// `keygate doctor`: everything a user would otherwise debug by hand, each check with its fix.
// Local checks first (they explain most provider failures), then, per provider, the checks that
// ask the provider. Nothing here writes to the vault except what a live status check does anyway
// (a refresh that was due).
import { keygateHome } from '../home.js';
import { getProvider, loadProviders } from '../provider/index.js';
import type { ProviderDefinition } from '../provider/types.js';
import { openStore, type Store } from '../store/index.js';
import { caChecks, homeCheck, keyCheck, portCheck, sandboxCheck } from './local.js';
import { clientCheck, clockCheck, connectionChecks, findClient, redirectCheck } from './provider.js';
import { type Check, fail } from './types.js';

export type { Check, Verdict } from './types.js';

export interface DoctorOptions {
  provider?: string;
  connection?: string;
  /** The login callback port to check (and to build the redirect URI from). */
  port: number;
  env: NodeJS.ProcessEnv;
}

export async function runDoctor(options: DoctorOptions): Promise<Check[]> {
  const home = keygateHome(options.env);
  const checks: Check[] = [homeCheck(home)];
  // An unsafe home is refused by everything below; say so once instead of failing each check.
  if (checks[0].verdict === 'fail') return checks;
  const store = await openStore({ home, env: options.env, stderr: () => {} });
  try {
    checks.push(await keyCheck(store, home));
    checks.push(...caChecks(home, options.env));
    checks.push(await sandboxCheck(options.env));
    checks.push(await portCheck(options.port));
    for (const provider of await providersToCheck(store, options)) {
      const client = await findClient(provider, store, options.env);
      checks.push(await clientCheck(provider, client));
      checks.push(await redirectCheck(provider, client, options.port));
      checks.push(await clockCheck(provider));
      // Connections need the key; a key failure is already reported above.
      if (checks.find((c) => c.id === 'key')?.verdict !== 'fail')
        checks.push(...(await connectionChecks(provider, store, options.connection)));
    }
  } catch (err) {
    checks.push(fail('doctor', 'doctor', (err as Error).message, (err as { hint?: string }).hint ?? 'rerun with KEYGATE_DEBUG=1'));
  } finally {
    await store.close();
  }
  return checks;
}

/** The named provider; else every provider that has a connection or client credentials somewhere. */
async function providersToCheck(store: Store, options: DoctorOptions): Promise<ProviderDefinition[]> {
  if (options.provider) return [await getProvider(options.provider)];
  const providers = [...(await loadProviders()).values()];
  const connected = new Set((await store.names()).map((n) => n.provider));
  const picked = [];
  for (const provider of providers) {
    if (connected.has(provider.name) || (await findClient(provider, store, options.env))) picked.push(provider);
  }
  return picked;
}
