// The store seam: the contract every place keygate keeps connections satisfies. The local file vault
// (src/vault/) and the shared PostgreSQL store (src/store/postgres/) both implement it, and both pass
// the same contract test suite (test/store/contract.ts). Commands and the core see only this.
import type { OpenVaultOptions, Vault } from '../vault/types.js';

export type StoreKind = 'files' | 'postgres';

/**
 * Everything `Vault` promises (read/peek/list/names, locked read-modify-write that re-reads under the
 * lock, delete, client credentials, named secrets), plus what differs between stores.
 *
 * `update` is the single-flight primitive: on files it holds the connection's lock file, on
 * PostgreSQL the row's lock (`SELECT … FOR UPDATE`) for the whole callback, so one refresh happens
 * per expiry however many processes (or hosts) race.
 */
export interface Store extends Vault {
  readonly kind: StoreKind;
  /** Where the records live, for messages and `list`: the vault's directory, or the database URL without its password. */
  readonly location: string;
  /**
   * Resolve the master key and check it against the store's key-check value without touching a
   * record. A wrong key is a VaultError here, before anything is written.
   */
  checkKey(): Promise<void>;
  /** Release what the store holds open (database connections). Idempotent. */
  close(): Promise<void>;
}

export interface OpenStoreOptions extends OpenVaultOptions {
  /**
   * Which store: `files` (default) or a `postgres://` URL. Default: KEYGATE_STORE from `env`, then
   * the `store` setting of the config file.
   */
  store?: string;
}
