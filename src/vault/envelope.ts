// AES-256-GCM sealing with associated data. Pure functions over buffers; knows nothing of files.
import crypto from 'node:crypto';

export const KEY_BYTES = 32;
// 96-bit nonces are GCM's native size (NIST SP 800-38D §8.2); a fresh random one per seal keeps the
// collision risk negligible for the few thousand writes a vault sees in its life.
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export interface Sealed {
  nonce: string;
  ciphertext: string;
  tag: string;
}

/** Thrown by `open` when the tag does not verify; callers turn it into a VaultError that names the file. */
export class AuthenticationFailed extends Error {
  constructor() {
    super('authentication failed');
    this.name = 'AuthenticationFailed';
  }
}

export function seal(key: Buffer, plaintext: Buffer, aad: Buffer): Sealed {
  const nonce = crypto.randomBytes(NONCE_BYTES);
  const cipher = crypto.createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { nonce: nonce.toString('base64'), ciphertext: ciphertext.toString('base64'), tag: cipher.getAuthTag().toString('base64') };
}

export function open(key: Buffer, sealed: Sealed, aad: Buffer): Buffer {
  const nonce = Buffer.from(sealed.nonce, 'base64');
  const tag = Buffer.from(sealed.tag, 'base64');
  // Node accepts truncated GCM tags unless the length is pinned, which would make forgery easier.
  if (nonce.length !== NONCE_BYTES || tag.length !== TAG_BYTES) throw new AuthenticationFailed();
  try {
    const decipher = crypto.createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(Buffer.from(sealed.ciphertext, 'base64')), decipher.final()]);
  } catch {
    throw new AuthenticationFailed();
  }
}

export function isSealed(value: unknown): value is Sealed {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.nonce === 'string' && typeof v.ciphertext === 'string' && typeof v.tag === 'string';
}

/**
 * JSON with object keys sorted at every level, so AAD computed from the parsed file matches AAD
 * computed from the object that was written, whatever order its keys were in.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  });
}
