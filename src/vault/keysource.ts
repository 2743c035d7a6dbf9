// Finds the master key: from the backend recorded in vault.json, or, on first use, by choosing one
// (OS keychain, else KEYGATE_PASSPHRASE, else a key file) and recording it.
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import { VaultError } from '../errors.js';
import { readIfExists, removeStaleTemps, writeFileAtomic } from './atomic.js';
import { KEY_BYTES } from './envelope.js';
import { BoundedKeychain, KEYCHAIN_SERVICE, KeychainUnavailable, keychainAccount } from './keychain.js';
import type { Layout } from './layout.js';
import { type HeldLock, withLock } from './lock.js';
import { recordsKeyCannotOpen } from './orphans.js';
import { deriveKey, newScryptParams } from './passphrase.js';
import type { KeyBackend, Keychain } from './types.js';
import { CONFIG_FORMAT, keyMatches, makeCheck, readConfig, type VaultConfig, writeConfig } from './vault-config.js';

export interface KeySourceOptions {
  layout: Layout;
  env: NodeJS.ProcessEnv;
  stderr: (text: string) => void;
  keychain: Keychain | null | undefined;
  keychainTimeoutMs: number;
}

interface Unlocked {
  key: Buffer;
  backend: KeyBackend;
}

export class KeySource {
  private unlocked: Promise<Unlocked> | undefined;
  constructor(private readonly o: KeySourceOptions) {}

  /** The recorded backend; only a vault's first use has to touch the keychain to answer. */
  async backend(): Promise<KeyBackend> {
    const config = await readConfig(this.o.layout.config);
    if (!config) return (await this.unlock()).backend;
    this.checkForced(config);
    return config.backend;
  }

  async masterKey(): Promise<Buffer> {
    return (await this.unlock()).key;
  }

  // Cached for the life of the process; a failure is not cached, so a retry after unlocking the
  // keychain or fixing KEYGATE_PASSPHRASE works.
  private unlock(): Promise<Unlocked> {
    this.unlocked ??= this.resolve().catch((err: unknown) => {
      this.unlocked = undefined;
      throw err;
    });
    return this.unlocked;
  }

  private async resolve(): Promise<Unlocked> {
    const file = this.o.layout.config;
    const config = await readConfig(file);
    if (config) return this.open(config);
    // Two first runs at once must not each create (and record) a different key.
    return withLock(file, 'the vault config', async (lock) => {
      const raced = await readConfig(file);
      return raced ? this.open(raced) : this.create(lock);
    });
  }

  private async open(config: VaultConfig): Promise<Unlocked> {
    this.checkForced(config);
    const key = await this.loadKey(config);
    if (!keyMatches(key, config.check)) throw this.wrongKey(config);
    return { key, backend: config.backend };
  }

  private async loadKey(config: VaultConfig): Promise<Buffer> {
    if (config.backend === 'passphrase') return deriveKey(this.passphrase(), config.scrypt!);
    if (config.backend === 'keyfile') {
      const bytes = await readIfExists(this.o.layout.keyFile);
      if (!bytes)
        throw new VaultError(`master key file ${this.o.layout.keyFile} is missing`, {
          hint: `restore it from a backup (without it the vault cannot be decrypted), or start over with \`keygate vault reset\``,
        });
      if (bytes.length !== KEY_BYTES)
        throw new VaultError(`master key file ${this.o.layout.keyFile} is damaged (not ${KEY_BYTES} bytes)`, {
          hint: 'restore it from a backup',
        });
      await this.refuseOpenKeyFile();
      return bytes;
    }
    const account = config.keychain!.account;
    let value: string | null;
    try {
      value = await (await this.keychain()).get(account);
    } catch (err) {
      if (!(err instanceof KeychainUnavailable)) throw err;
      throw new VaultError(`${err.message}; this vault's master key is stored there`, {
        hint: 'unlock the OS keychain (or start its Secret Service) and retry',
        cause: err,
      });
    }
    const key = value === null ? undefined : decodeKey(value);
    if (!key) {
      throw new VaultError(`the vault's master key is missing from the OS keychain (service ${KEYCHAIN_SERVICE}, account ${account})`, {
        // A locked Secret Service collection answers "no such entry" rather than an error.
        hint: `if the keychain is locked, unlock it and retry; otherwise restore that entry (without it the vault in ${this.o.layout.dir} cannot be decrypted), or start over with \`keygate vault reset\``,
      });
    }
    return key;
  }

  private async create(lock: HeldLock): Promise<Unlocked> {
    const forced = this.forced();
    let backend: KeyBackend = forced ?? 'keychain';
    let key: Buffer | undefined;
    const config: Partial<VaultConfig> = {};
    if (backend === 'keychain') {
      try {
        const account = keychainAccount(this.o.layout.home);
        key = await this.createInKeychain(account);
        config.keychain = { service: KEYCHAIN_SERVICE, account };
      } catch (err) {
        if (!(err instanceof KeychainUnavailable)) throw err;
        if (forced)
          throw new VaultError(`${err.message} and KEYGATE_KEY_BACKEND=keychain`, {
            hint: 'unlock the OS keychain, or unset KEYGATE_KEY_BACKEND to let keygate fall back',
            cause: err,
          });
        backend = this.o.env.KEYGATE_PASSPHRASE ? 'passphrase' : 'keyfile';
        this.o.stderr(
          `keygate: ${err.message}; using ${backend === 'passphrase' ? 'KEYGATE_PASSPHRASE' : `key file ${tilde(this.o.layout.keyFile)} (0600)`}\n`,
        );
      }
    }
    if (backend === 'passphrase') {
      config.scrypt = newScryptParams();
      key = await deriveKey(this.passphrase(), config.scrypt);
    } else if (backend === 'keyfile') {
      key = await this.createKeyFile(lock);
    }
    await this.refuseOrphaning(key!, backend);
    const full: VaultConfig = { format: CONFIG_FORMAT, backend, created_at: new Date().toISOString(), check: makeCheck(key!), ...config };
    lock.assertHeld();
    await removeStaleTemps(this.o.layout.config);
    await writeConfig(this.o.layout.config, full);
    return { key: key!, backend };
  }

  /**
   * No vault.json, but records are there that this new key cannot open (vault.json was deleted, or
   * the passphrase's salt is gone with it): writing a new config would orphan them silently.
   */
  private async refuseOrphaning(key: Buffer, backend: KeyBackend): Promise<void> {
    const orphans = await recordsKeyCannotOpen(this.o.layout, key);
    if (orphans.length === 0) return;
    const shown = orphans.slice(0, 3).join(', ') + (orphans.length > 3 ? `, and ${orphans.length - 3} more` : '');
    throw new VaultError(
      `the vault config ${this.o.layout.config} is missing, and the key from ${this.label(backend)} cannot open the ${orphans.length} record${orphans.length > 1 ? 's' : ''} already there (${shown})`,
      {
        hint: `restore ${this.o.layout.config} from a backup (it records where the key is${backend === 'passphrase' ? ' and the passphrase salt' : ''}), or start over deliberately with \`keygate vault reset\` (the old files are kept aside)`,
      },
    );
  }

  private async createInKeychain(account: string): Promise<Buffer> {
    const keychain = await this.keychain();
    // An entry without a vault.json is kept, not replaced: it may be all that encrypts existing records.
    const existing = await keychain.get(account);
    const reused = existing === null ? undefined : decodeKey(existing);
    if (reused) return reused;
    const key = crypto.randomBytes(KEY_BYTES);
    await keychain.set(account, key.toString('base64'));
    // Some Secret Service setups accept a write they do not keep; finding out now beats losing the vault.
    if ((await keychain.get(account)) !== key.toString('base64')) throw new KeychainUnavailable('it did not keep the stored key');
    return key;
  }

  private async createKeyFile(lock: HeldLock): Promise<Buffer> {
    const file = this.o.layout.keyFile;
    const existing = await readIfExists(file);
    if (existing?.length === KEY_BYTES) return existing; // same reasoning as a surviving keychain entry
    const key = crypto.randomBytes(KEY_BYTES);
    lock.assertHeld();
    await removeStaleTemps(file);
    await writeFileAtomic(file, key);
    return key;
  }

  /** As ssh refuses a private key others can read: a key file with group/other bits is not used. */
  private async refuseOpenKeyFile(): Promise<void> {
    if (process.platform === 'win32') return;
    const file = this.o.layout.keyFile;
    const mode = (await fs.stat(file)).mode & 0o777;
    if (mode & 0o077) {
      throw new VaultError(
        `master key file ${file} is readable or writable by others (mode ${mode.toString(8).padStart(4, '0')}); keygate refuses it, as ssh does`,
        {
          hint: `run \`chmod 600 ${file}\``,
        },
      );
    }
  }

  private keychain(): Promise<BoundedKeychain> {
    return BoundedKeychain.load(this.o.keychain, this.o.keychainTimeoutMs);
  }

  private passphrase(): string {
    const passphrase = this.o.env.KEYGATE_PASSPHRASE;
    if (!passphrase) {
      throw new VaultError("this vault's master key comes from KEYGATE_PASSPHRASE, which is not set", {
        hint: 'set KEYGATE_PASSPHRASE to the passphrase the vault was created with',
      });
    }
    return passphrase;
  }

  private forced(): KeyBackend | undefined {
    const value = this.o.env.KEYGATE_KEY_BACKEND;
    if (value === undefined || value === '') return undefined;
    if (value === 'keychain' || value === 'passphrase' || value === 'keyfile') return value;
    throw new VaultError(`KEYGATE_KEY_BACKEND must be keychain, passphrase or keyfile, got ${JSON.stringify(value.slice(0, 40))}`, {
      hint: 'fix or unset KEYGATE_KEY_BACKEND',
    });
  }

  private checkForced(config: VaultConfig): void {
    const forced = this.forced();
    if (forced && forced !== config.backend) {
      throw new VaultError(`KEYGATE_KEY_BACKEND=${forced}, but this vault's master key is in ${this.label(config.backend)}`, {
        hint: 'unset KEYGATE_KEY_BACKEND; an existing vault never switches backends (that would orphan its records)',
      });
    }
  }

  private wrongKey(config: VaultConfig): VaultError {
    if (config.backend === 'passphrase') {
      return new VaultError('wrong KEYGATE_PASSPHRASE', {
        hint: 'set it to the passphrase the vault was created with (if it is lost, start over with `keygate vault reset`)',
      });
    }
    return new VaultError(`the master key in ${this.label(config.backend)} does not belong to this vault (${this.o.layout.config})`, {
      hint: 'restore the key or the vault from the same backup, or start over with `keygate vault reset`',
    });
  }

  private label(backend: KeyBackend): string {
    if (backend === 'keychain') return 'the OS keychain';
    if (backend === 'passphrase') return 'KEYGATE_PASSPHRASE';
    return `the key file ${this.o.layout.keyFile}`;
  }
}

function decodeKey(value: string): Buffer | undefined {
  const key = Buffer.from(value, 'base64');
  return key.length === KEY_BYTES ? key : undefined;
}

function tilde(file: string): string {
  const home = os.homedir();
  return home && file.startsWith(`${home}/`) ? `~${file.slice(home.length)}` : file;
}
