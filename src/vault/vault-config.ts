// vault/vault.json: the clear config recording which backend holds the master key, so a later run
// uses the same one instead of silently creating a new key and orphaning every record.
import { VaultError } from '../errors.js';
import { readIfExists, writeFileAtomic } from './atomic.js';
import { AuthenticationFailed, isSealed, open, seal, type Sealed } from './envelope.js';
import { isScryptParams, type ScryptParams } from './passphrase.js';
import { checkFormat } from './record-file.js';
import type { KeyBackend } from './types.js';

export const CONFIG_FORMAT = 1;
const BACKENDS: readonly KeyBackend[] = ['keychain', 'passphrase', 'keyfile'];

export interface VaultConfig {
  format: number;
  backend: KeyBackend;
  created_at: string;
  /** A fixed text sealed under the master key: tells a wrong key apart before any record is touched. */
  check: Sealed;
  keychain?: { service: string; account: string };
  scrypt?: ScryptParams;
}

export async function readConfig(file: string): Promise<VaultConfig | undefined> {
  const bytes = await readIfExists(file);
  if (!bytes) return undefined;
  let data: Record<string, unknown>;
  try {
    data = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
  } catch (err) {
    throw damaged(file, err);
  }
  if (typeof data !== 'object' || data === null) throw damaged(file);
  checkFormat(file, data.format, CONFIG_FORMAT);
  const config = data as unknown as VaultConfig;
  const ok =
    BACKENDS.includes(config.backend) &&
    isSealed(config.check) &&
    (config.backend !== 'keychain' || (typeof config.keychain?.service === 'string' && typeof config.keychain.account === 'string')) &&
    (config.backend !== 'passphrase' || isScryptParams(config.scrypt));
  if (!ok) throw damaged(file);
  return config;
}

export function writeConfig(file: string, config: VaultConfig): Promise<void> {
  return writeFileAtomic(file, `${JSON.stringify(config, null, 2)}\n`);
}

const CHECK_TEXT = Buffer.from('keygate vault master key check', 'utf8');
const CHECK_AAD = Buffer.from('keygate/vault.json/check', 'utf8');

export function makeCheck(key: Buffer): Sealed {
  return seal(key, CHECK_TEXT, CHECK_AAD);
}

export function keyMatches(key: Buffer, check: Sealed): boolean {
  try {
    return open(key, check, CHECK_AAD).equals(CHECK_TEXT);
  } catch (err) {
    if (err instanceof AuthenticationFailed) return false;
    throw err;
  }
}

function damaged(file: string, cause?: unknown): VaultError {
  return new VaultError(`vault config ${file} is damaged`, {
    hint: 'restore it from a backup; without it the master key cannot be found',
    cause,
  });
}
