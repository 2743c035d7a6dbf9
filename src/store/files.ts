// The local file vault as a Store: the vault under KEYGATE_HOME, unchanged, plus the seam's extras.
import { openVault } from '../vault/index.js';
import type { OpenVaultOptions } from '../vault/types.js';
import type { FileVault } from '../vault/vault.js';
import type { Store } from './types.js';

export async function openFileStore(options: OpenVaultOptions): Promise<Store> {
  const vault = (await openVault(options)) as FileVault;
  return Object.assign(vault, { kind: 'files' as const, location: vault.home, close: async () => {} });
}
