// The master key of a shared store. It cannot live in one person's OS keychain, so it comes from
// KEYGATE_PASSPHRASE (scrypt, salt in the database) or a key file named by KEYGATE_KEY_FILE that
// every host holds a copy of. The database keeps a key-check value (a fixed text sealed under the
// key): a host with the wrong key fails on its first use of the key, before it writes anything.
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import { VaultError } from '../../errors.js';
import { isSealed, KEY_BYTES } from '../../vault/envelope.js';
import { deriveKey, isScryptParams, newScryptParams, type ScryptParams } from '../../vault/passphrase.js';
import type { KeyBackend } from '../../vault/types.js';
import { keyMatches, makeCheck } from '../../vault/vault-config.js';
import { LOCK_NAMESPACE } from './schema.js';
import type { Database, Query } from './db.js';

type SharedBackend = Extract<KeyBackend, 'passphrase' | 'keyfile'>;

interface ConfigRow {
  backend: string;
  scrypt: unknown;
  key_check: unknown;
}

export class SharedKeys {
  private unlocked: Promise<{ key: Buffer; backend: SharedBackend }> | undefined;

  constructor(
    private readonly db: Database,
    private readonly env: NodeJS.ProcessEnv,
    private readonly ready: () => Promise<void>,
  ) {}

  async backend(): Promise<KeyBackend> {
    await this.ready();
    const row = await this.readConfig(this.db.query);
    return row ? this.backendOf(row) : (await this.unlock()).backend;
  }

  async masterKey(): Promise<Buffer> {
    return (await this.unlock()).key;
  }

  // Cached for the process's life; a failure is not cached, so fixing the environment and retrying works.
  private unlock(): Promise<{ key: Buffer; backend: SharedBackend }> {
    this.unlocked ??= this.resolve().catch((err: unknown) => {
      this.unlocked = undefined;
      throw err;
    });
    return this.unlocked;
  }

  private async resolve(): Promise<{ key: Buffer; backend: SharedBackend }> {
    await this.ready();
    const existing = await this.readConfig(this.db.query);
    if (existing) return this.open(existing);
    // The first host to use the store records its key's check value; two first hosts at once
    // serialize on the lock, and the second finds (and must match) the first one's check.
    return this.db.transaction(async (query) => {
      await query('SELECT pg_advisory_xact_lock($1, 1)', [LOCK_NAMESPACE]);
      const raced = await this.readConfig(query);
      if (raced) return this.open(raced);
      const backend = this.chooseBackend();
      const scrypt = backend === 'passphrase' ? newScryptParams() : undefined;
      const key = backend === 'passphrase' ? await deriveKey(this.passphrase(), scrypt!) : await this.keyFile(true);
      await query('INSERT INTO keygate_config (id, backend, scrypt, key_check) VALUES (1, $1, $2, $3)', [
        backend,
        scrypt ? JSON.stringify(scrypt) : null,
        JSON.stringify(makeCheck(key)),
      ]);
      return { key, backend };
    });
  }

  private async open(row: ConfigRow): Promise<{ key: Buffer; backend: SharedBackend }> {
    const backend = this.backendOf(row);
    const forced = this.forced();
    if (forced && forced !== backend) {
      throw new VaultError(`KEYGATE_KEY_BACKEND=${forced}, but the shared store ${this.db.location} is keyed by ${label(backend)}`, {
        hint: 'unset KEYGATE_KEY_BACKEND; a store never switches backends (that would orphan its records)',
      });
    }
    if (!isSealed(row.key_check) || (backend === 'passphrase' && !isScryptParams(row.scrypt))) {
      throw new VaultError(`the key check of the shared store ${this.db.location} is damaged`, {
        hint: 'restore the keygate_config table from a backup',
      });
    }
    const key = backend === 'passphrase' ? await deriveKey(this.passphrase(), row.scrypt as ScryptParams) : await this.keyFile(false);
    if (!keyMatches(key, row.key_check)) {
      throw new VaultError(
        `${label(backend)} does not hold the master key of the shared store ${this.db.location}; nothing was read or written`,
        {
          hint:
            backend === 'passphrase'
              ? 'set KEYGATE_PASSPHRASE to the passphrase the store was created with'
              : 'copy the key file the store was created with to this host',
        },
      );
    }
    return { key, backend };
  }

  private async readConfig(query: Query): Promise<ConfigRow | undefined> {
    return (await query<ConfigRow>('SELECT backend, scrypt, key_check FROM keygate_config WHERE id = 1'))[0];
  }

  private backendOf(row: ConfigRow): SharedBackend {
    if (row.backend === 'passphrase' || row.backend === 'keyfile') return row.backend;
    throw new VaultError(`the shared store ${this.db.location} names an unknown key backend`, {
      hint: 'it was set up by a newer keygate; upgrade keygate on this host',
    });
  }

  private chooseBackend(): SharedBackend {
    const forced = this.forced();
    if (forced) return forced;
    if (this.env.KEYGATE_PASSPHRASE) return 'passphrase';
    if (this.env.KEYGATE_KEY_FILE) return 'keyfile';
    throw new VaultError(
      'a shared store needs a master key every host can have, and neither KEYGATE_PASSPHRASE nor KEYGATE_KEY_FILE is set',
      {
        hint: 'set KEYGATE_PASSPHRASE, or KEYGATE_KEY_FILE to a key file path (created if missing); the OS keychain is per machine',
      },
    );
  }

  private forced(): SharedBackend | undefined {
    const value = this.env.KEYGATE_KEY_BACKEND;
    if (value === undefined || value === '') return undefined;
    if (value === 'passphrase' || value === 'keyfile') return value;
    throw new VaultError(`KEYGATE_KEY_BACKEND=${JSON.stringify(value.slice(0, 40))} cannot key a shared store`, {
      hint: 'use passphrase or keyfile (or unset it); the OS keychain holds a key for one machine only',
    });
  }

  private passphrase(): string {
    const passphrase = this.env.KEYGATE_PASSPHRASE;
    if (!passphrase) {
      throw new VaultError(`the shared store ${this.db.location} is keyed by KEYGATE_PASSPHRASE, which is not set`, {
        hint: 'set KEYGATE_PASSPHRASE to the passphrase the store was created with',
      });
    }
    return passphrase;
  }

  /**
   * The key file: 32 raw bytes, or their base64 on one line (easier to keep in a CI secret). Created
   * (base64, 0600) when a new store is set up and the file does not exist yet.
   */
  private async keyFile(create: boolean): Promise<Buffer> {
    const file = this.env.KEYGATE_KEY_FILE;
    if (!file) {
      throw new VaultError(`the shared store ${this.db.location} is keyed by a key file, and KEYGATE_KEY_FILE is not set`, {
        hint: "set KEYGATE_KEY_FILE to the path of this host's copy of the store's key file",
      });
    }
    let bytes: Buffer;
    try {
      const stat = await fs.stat(file);
      // Same rule as ssh for private keys: a key others can read is not a secret any more.
      if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
        throw new VaultError(`key file ${file} can be read by other users (mode ${(stat.mode & 0o777).toString(8)})`, {
          hint: `run \`chmod 600 ${file}\``,
        });
      }
      bytes = await fs.readFile(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        if (err instanceof VaultError) throw err;
        throw new VaultError(`cannot read key file ${file}`, { hint: 'check its path and permissions', cause: err });
      }
      if (!create)
        throw new VaultError(`key file ${file} does not exist`, {
          hint: "copy the store's key file to this host (it was created where the store was first used)",
        });
      const key = crypto.randomBytes(KEY_BYTES);
      await fs.writeFile(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
      return key;
    }
    const key = bytes.length === KEY_BYTES ? bytes : Buffer.from(bytes.toString('utf8').trim(), 'base64');
    if (key.length !== KEY_BYTES)
      throw new VaultError(`key file ${file} is not a keygate key (${KEY_BYTES} bytes, raw or base64)`, {
        hint: 'restore it from another host',
      });
    return key;
  }
}

function label(backend: SharedBackend): string {
  return backend === 'passphrase' ? 'KEYGATE_PASSPHRASE' : 'the key file (KEYGATE_KEY_FILE)';
}
