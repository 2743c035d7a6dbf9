// The vault: encrypted connection records, client credentials and named secrets under KEYGATE_HOME.
// Opening is free: the master key is looked for only when a secret is first read or written.
import path from 'node:path';
import { checkHome, keygateHome } from '../home.js';
import { DEFAULT_KEYCHAIN_TIMEOUT_MS } from './keychain.js';
import { KeySource } from './keysource.js';
import { Layout } from './layout.js';
import type { OpenVaultOptions, Vault } from './types.js';
import { FileVault } from './vault.js';

export * from './types.js';
export { KEYCHAIN_SERVICE, keychainAccount } from './keychain.js';

export async function openVault(options: OpenVaultOptions = {}): Promise<Vault> {
  const env = options.env ?? process.env;
  const home = path.resolve(options.home ?? keygateHome(env));
  checkHome(home);
  const layout = new Layout(home);
  const keys = new KeySource({
    layout,
    env,
    stderr: options.stderr ?? ((text) => process.stderr.write(text)),
    keychain: options.keychain,
    keychainTimeoutMs: options.keychainTimeoutMs ?? DEFAULT_KEYCHAIN_TIMEOUT_MS,
  });
  return new FileVault(layout, keys);
}
