// Master key from KEYGATE_PASSPHRASE via scrypt. The parameters and salt live in the vault config so
// they can be raised later without breaking existing vaults.
import crypto from 'node:crypto';
import { KEY_BYTES } from './envelope.js';

export interface ScryptParams {
  /** base64, 16 random bytes. */
  salt: string;
  N: number;
  r: number;
  p: number;
}

// N=2^15, r=8 costs 32 MiB and ~0.1 s per run: the `scrypt` recommendation for interactive logins
// (Percival), paid once per keygate process since the key is cached for the process's life.
export function newScryptParams(): ScryptParams {
  return { salt: crypto.randomBytes(16).toString('base64'), N: 2 ** 15, r: 8, p: 1 };
}

export function isScryptParams(value: unknown): value is ScryptParams {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.salt === 'string' && [v.N, v.r, v.p].every((n) => typeof n === 'number' && Number.isInteger(n) && n > 0);
}

export function deriveKey(passphrase: string, params: ScryptParams): Promise<Buffer> {
  const { N, r, p } = params;
  return new Promise((resolve, reject) => {
    // Node's default maxmem (32 MiB) is just below what N=2^15, r=8 needs.
    crypto.scrypt(
      passphrase.normalize('NFC'),
      Buffer.from(params.salt, 'base64'),
      KEY_BYTES,
      { N, r, p, maxmem: 256 * N * r + 1024 * 1024 },
      (err, key) => (err ? reject(err) : resolve(key)),
    );
  });
}
