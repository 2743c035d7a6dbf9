// What every operation of one open keygate shares: the home, the environment, and one store opened
// on first use (a PostgreSQL pool, or the file vault) and closed by close().
import { keygateHome } from '../home.js';
import { getProvider } from '../provider/index.js';
import type { ProviderDefinition } from '../provider/types.js';
import type { Store } from '../store/types.js';
import type { KeygateOptions } from './types.js';

export interface Context {
  readonly home: string;
  readonly env: NodeJS.ProcessEnv;
  readonly stderr: (text: string) => void;
  store(): Promise<Store>;
  provider(name: string): Promise<ProviderDefinition>;
  close(): Promise<void>;
}

export function createContext(options: KeygateOptions = {}): Context {
  const env = options.env ?? process.env;
  const home = options.home ?? keygateHome(env);
  const stderr = options.stderr ?? ((text: string) => void process.stderr.write(text));
  let opening: Promise<Store> | undefined;
  return {
    home,
    env,
    stderr,
    store() {
      opening ??= import('../store/index.js').then(({ openStore }) => openStore({ home, env, store: options.store, stderr }));
      return opening;
    },
    provider: (name) => getProvider(name, { home }),
    async close() {
      const store = opening;
      opening = undefined;
      if (store) await (await store.catch(() => undefined))?.close();
    },
  };
}
