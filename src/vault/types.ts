// The shapes the vault stores and the API the rest of keygate uses. Nothing outside src/vault/
// touches the vault's files; everything goes through `Vault`.

/** Stored status. `not_connected` is never stored: it means "no record". */
export type ConnectionStatus = 'connected' | 'expired' | 'revoked';

export interface TokenSet {
  /** Secret. */
  access_token: string;
  /** Secret. Absent when the provider issued none. */
  refresh_token?: string;
  token_type: string;
  /** ISO 8601 UTC; absent when the provider gave no expiry. */
  expires_at?: string;
  /** As granted by the provider (from the token response), not as requested. */
  scopes: string[];
}

export interface Account {
  id: string;
  name: string;
}

/** Where a connection's credential may be sent, recorded at login (the provider file's hosts then). */
export interface Binding {
  hosts: string[];
  /** e.g. `/api/` for Discord. */
  path_prefix: string;
}

/** A guild a bot connection was installed into with `keygate install`. */
export interface Installation {
  guild_id: string;
  guild_name: string;
  /** The permission integer granted, as a decimal string (64-bit). */
  permissions: string;
  /** ISO 8601 UTC. */
  installed_at: string;
}

export interface ConnectionRecord {
  provider: string;
  connection: string;
  /**
   * `user` (an OAuth2 login; also when absent, as in records written before bots existed) or `bot`
   * (an application's bot token, from `keygate login <provider> --bot`: sent as `Bot <token>`, never
   * expires, cannot be refreshed).
   */
  kind?: 'user' | 'bot';
  /** Bot connections: the application the bot belongs to. */
  application?: Account;
  /** Bot connections: where it was installed. */
  installations?: Installation[];
  tokens: TokenSet;
  /**
   * Stored inside the encrypted part, so it is authenticated and can't be edited without the master
   * key. Absent in records written before keygate recorded it.
   */
  binding?: Binding;
  account: Account | null;
  status: ConnectionStatus;
  /** Why the status is what it is, e.g. "refresh token refused (invalid_grant)". */
  status_reason?: string;
  /** ISO 8601 UTC time the status last changed. */
  status_changed_at?: string;
  created_at: string;
  refreshed_at?: string;
  /**
   * Set by `keygate store migrate` (under the record's lock) before the connection is copied to
   * another store: from then on this copy is frozen (never refreshed or served), so the two stores
   * can never hold diverging refresh tokens. See src/store/migrate.ts.
   */
  moving?: { to: string; at: string };
  /** On the copy in the destination store: where it was moved from. */
  migrated_from?: { from: string; at: string };
}

/**
 * Everything in a record except the secret token values. Of `tokens`, only `token_type`, `expires_at`
 * and `scopes` are stored in clear; any other token field (present or added later) is encrypted.
 */
export type ConnectionMeta = Omit<ConnectionRecord, 'tokens'> & {
  tokens: Omit<TokenSet, 'access_token' | 'refresh_token'> & { has_refresh_token: boolean };
};

export interface ClientCredentials {
  client_id: string;
  /** Secret. */
  client_secret?: string;
}

export type KeyBackend = 'keychain' | 'passphrase' | 'keyfile';

/** The part of keytar the vault uses. Tests inject a fake so they never touch a real keychain. */
export interface Keychain {
  getPassword(service: string, account: string): Promise<string | null>;
  setPassword(service: string, account: string, password: string): Promise<void>;
  deletePassword(service: string, account: string): Promise<boolean>;
}

export interface OpenVaultOptions {
  /** Default: keygateHome(env). */
  home?: string;
  /** Reads KEYGATE_PASSPHRASE and KEYGATE_KEY_BACKEND (keychain|passphrase|keyfile) from it. Default: process.env. */
  env?: NodeJS.ProcessEnv;
  /** Receives the one-line keychain fallback notice, ending in "\n". Default: process.stderr.write. */
  stderr?: (text: string) => void;
  /** Replaces keytar (tests). `null` means "no keychain on this machine". */
  keychain?: Keychain | null;
  /** Bound on every keychain call. Default 3000 ms. */
  keychainTimeoutMs?: number;
}

export interface ConnectionName {
  provider: string;
  connection: string;
}

/** One entry of `list()`: a readable record, or a record that could not be read (tampered, newer format). */
export type ListedConnection =
  | { provider: string; connection: string; record: ConnectionRecord; error?: undefined }
  | { provider: string; connection: string; record?: undefined; error: Error };

export interface Vault {
  readonly home: string;
  /**
   * The master-key backend in use (recorded on first use; a later run never silently switches).
   * Resolving it may touch the keychain, so it is lazy: opening a vault costs no key work.
   */
  backend(): Promise<KeyBackend>;

  /**
   * The record without its secrets, read WITHOUT the master key (fast path for `get --field status`,
   * `list`). The metadata is stored in clear but authenticated as AAD, so tampering is caught on the
   * next full read.
   */
  peek(provider: string, connection: string): Promise<ConnectionMeta | undefined>;

  read(provider: string, connection: string): Promise<ConnectionRecord | undefined>;
  write(record: ConnectionRecord): Promise<void>;
  /**
   * Read-modify-write under a cross-process lock for that connection. `fn` gets the current record
   * (re-read after the lock is taken) and returns the new one, `undefined` to delete it, or
   * `Vault.unchanged` to leave it as it is. The lock is held while `fn` runs (even if it awaits a
   * network call), so at most one process at a time updates a connection. Returns what is stored after.
   * `fn` must not write the same connection itself (update/write/delete): it would wait for its own
   * lock until the lock timeout (60 s) and fail.
   */
  update(
    provider: string,
    connection: string,
    fn: (
      current: ConnectionRecord | undefined,
    ) => Promise<ConnectionRecord | undefined | typeof UNCHANGED> | ConnectionRecord | undefined | typeof UNCHANGED,
  ): Promise<ConnectionRecord | undefined>;
  /** Returns true when a record existed. */
  delete(provider: string, connection: string): Promise<boolean>;
  list(): Promise<ListedConnection[]>;
  /** Every stored connection's name, sorted, read WITHOUT the master key. */
  names(): Promise<ConnectionName[]>;

  readClient(provider: string): Promise<ClientCredentials | undefined>;
  writeClient(provider: string, credentials: ClientCredentials): Promise<void>;
  deleteClient(provider: string): Promise<boolean>;

  /** Encrypted storage for other secrets keygate keeps (e.g. the proxy CA's private key), by name. */
  readSecret(name: string): Promise<Buffer | undefined>;
  writeSecret(name: string, data: Buffer): Promise<void>;
}

/**
 * Returned by an `update` callback to keep the record unchanged (and skip the write). TypeScript widens
 * it to `symbol` in an async callback whose only other outcome is a throw; write
 * `return UNCHANGED as typeof UNCHANGED` there.
 */
export const UNCHANGED: unique symbol = Symbol('keygate.vault.unchanged');
