// The on-disk form of one encrypted record: clear identity and metadata, plus the sealed secret part.
//
//   { "format": 1, "kind": "connection", "provider": "discord", "connection": "work",
//     "meta": { ...non-secret fields... }, "nonce": "…", "ciphertext": "…", "tag": "…" }
//
// The AAD is the identity the reader EXPECTS (from the path it asked for) plus the format and the
// clear metadata, so a file copied over another record's file, or edited metadata, fails to open.
import { fixHint } from '../connection/hints.js';
import { VaultError } from '../errors.js';
import { AuthenticationFailed, canonicalJson, isSealed, open, seal, type Sealed } from './envelope.js';
import { describe, type RecordId } from './layout.js';

/** The record format this keygate writes. Files with a higher number are refused, never rewritten. */
export const RECORD_FORMAT = 1;

export interface RecordFile {
  format: number;
  meta: Record<string, unknown>;
  sealed: Sealed;
}

export function parseRecordFile(file: string, bytes: Buffer, id: RecordId): RecordFile {
  let data: unknown;
  try {
    data = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw damaged(file, id, 'is not valid JSON', err);
  }
  if (typeof data !== 'object' || data === null) throw damaged(file, id, 'is not a JSON object');
  const raw = data as Record<string, unknown>;
  checkFormat(file, raw.format);
  const format = raw.format as number;
  const stored = identityOf(raw);
  if (canonicalJson(stored) !== canonicalJson(identity(id))) {
    throw new VaultError(
      `record ${describe(id)} failed authentication (tampered or wrong key): ${file} holds a different record (${String(raw.kind)} ${[raw.provider, raw.connection, raw.name].filter(Boolean).join('/')})`,
      {
        hint: 'a vault file was copied or moved by hand; restore it from a backup or delete it',
      },
    );
  }
  if (typeof raw.meta !== 'object' || raw.meta === null || Array.isArray(raw.meta)) throw damaged(file, id, 'has no metadata');
  if (!isSealed(raw)) throw damaged(file, id, 'has no ciphertext');
  return { format, meta: raw.meta as Record<string, unknown>, sealed: { nonce: raw.nonce, ciphertext: raw.ciphertext, tag: raw.tag } };
}

/** Refuse a file from a newer keygate before anything reads or replaces it. */
export function checkFormat(file: string, format: unknown, supported = RECORD_FORMAT): void {
  if (typeof format !== 'number' || !Number.isInteger(format) || format < 1) {
    throw new VaultError(`${file} is not a keygate vault file (no format version)`, {
      hint: 'restore it from a backup or delete it',
    });
  }
  if (format > supported) {
    throw new VaultError(`${file} was written by a newer keygate (format ${format}; this version reads format ${supported})`, {
      hint: 'upgrade keygate; the file was left untouched',
    });
  }
}

/** The format of an existing file, if it can be told; used to refuse overwriting a newer file. */
export function formatOf(bytes: Buffer): unknown {
  try {
    return (JSON.parse(bytes.toString('utf8')) as { format?: unknown }).format;
  } catch {
    return undefined;
  }
}

export function sealRecordFile(key: Buffer, id: RecordId, meta: object, plaintext: Buffer): string {
  const sealed = seal(key, plaintext, aad(RECORD_FORMAT, id, meta));
  return `${JSON.stringify({ format: RECORD_FORMAT, ...identity(id), meta, ...sealed }, null, 2)}\n`;
}

export function openRecordFile(key: Buffer, id: RecordId, file: string, record: RecordFile): Buffer {
  try {
    return open(key, record.sealed, aad(record.format, id, record.meta));
  } catch (err) {
    if (!(err instanceof AuthenticationFailed)) throw err;
    throw new VaultError(`record ${describe(id)} failed authentication (tampered or wrong key) in ${file}`, {
      hint:
        id.kind === 'connection'
          ? `${fixHint(id.provider, id.connection, 'unreadable')} to replace it (or restore the file from a backup)`
          : 'restore the file from a backup, or delete it',
    });
  }
}

function aad(format: number, id: RecordId, meta: unknown): Buffer {
  return Buffer.from(canonicalJson({ format, ...identity(id), meta }), 'utf8');
}

function identity(id: RecordId): Record<string, string> {
  return { ...id };
}

function identityOf(raw: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { kind: raw.kind };
  for (const field of ['provider', 'connection', 'name']) if (field in raw) out[field] = raw[field];
  return out;
}

function damaged(file: string, id: RecordId, why: string, cause?: unknown): VaultError {
  return new VaultError(`record ${describe(id)} is damaged: ${file} ${why}`, {
    hint:
      id.kind === 'connection'
        ? `${fixHint(id.provider, id.connection, 'unreadable')} to replace it (or restore the file from a backup)`
        : 'restore the file from a backup, or delete it',
    cause,
  });
}
