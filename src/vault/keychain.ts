// The OS keychain (via keytar, an optional native module), with every call bounded in time.
import crypto from 'node:crypto';
import type { Keychain } from './types.js';

export const KEYCHAIN_SERVICE = 'keygate';
export const DEFAULT_KEYCHAIN_TIMEOUT_MS = 3_000;

/** Thrown when the keychain cannot be used at all; `reason` is short and safe to show. */
export class KeychainUnavailable extends Error {
  constructor(
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`OS keychain unavailable (${reason})`, options);
    this.name = 'KeychainUnavailable';
  }
}

/**
 * One keychain entry per KEYGATE_HOME, so a test's temp home never reads or overwrites the user's
 * real entry. Recorded in the vault config at creation, so moving the home keeps finding the key.
 */
export function keychainAccount(home: string): string {
  return `vault:${crypto.createHash('sha256').update(home).digest('hex').slice(0, 32)}`;
}

export class BoundedKeychain {
  private constructor(
    private readonly keychain: Keychain,
    private readonly timeoutMs: number,
  ) {}

  /** `injected` replaces keytar; `null` means there is no keychain. */
  static async load(injected: Keychain | null | undefined, timeoutMs: number): Promise<BoundedKeychain> {
    if (injected === null) throw new KeychainUnavailable('disabled');
    if (injected) return new BoundedKeychain(injected, timeoutMs);
    return new BoundedKeychain(await importKeytar(), timeoutMs);
  }

  get(account: string): Promise<string | null> {
    return this.bounded(() => this.keychain.getPassword(KEYCHAIN_SERVICE, account));
  }

  set(account: string, value: string): Promise<void> {
    return this.bounded(() => this.keychain.setPassword(KEYCHAIN_SERVICE, account, value));
  }

  delete(account: string): Promise<boolean> {
    return this.bounded(() => this.keychain.deletePassword(KEYCHAIN_SERVICE, account));
  }

  // A locked keyring or a Secret Service that never answers makes keytar hang forever (it waits on
  // D-Bus), so each call races a timer rather than trusting keytar to return.
  private bounded<T>(call: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new KeychainUnavailable(`no answer within ${formatSeconds(this.timeoutMs)}`));
      }, this.timeoutMs);
      Promise.resolve()
        .then(call)
        .then(
          (value) => {
            clearTimeout(timer);
            resolve(value);
          },
          (err: unknown) => {
            clearTimeout(timer);
            reject(new KeychainUnavailable(firstLine(err), { cause: err }));
          },
        );
    });
  }
}

async function importKeytar(): Promise<Keychain> {
  // A variable specifier keeps TypeScript from requiring keytar's types: it is an optional dependency
  // whose native build fails on machines without libsecret.
  const specifier = 'keytar';
  try {
    const mod = (await import(specifier)) as { default?: Keychain } & Keychain;
    const keytar = mod.default ?? mod;
    if (typeof keytar.getPassword !== 'function') throw new Error('unexpected keytar module shape');
    return keytar;
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND';
    throw new KeychainUnavailable(missing ? 'keytar is not installed' : `keytar could not be loaded: ${firstLine(err)}`, { cause: err });
  }
}

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const line = (text.split('\n', 1)[0] ?? '').trim() || 'unknown error';
  return line.length > 160 ? `${line.slice(0, 160)}…` : line;
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}
