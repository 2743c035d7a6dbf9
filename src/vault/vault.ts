// The Vault API over the files: reads are lock-free (files are only ever replaced atomically);
// every write happens under that file's lock, after refusing to replace a newer-format file.
import fs from 'node:fs/promises';
import path from 'node:path';
import { permissionHint } from '../connection/hints.js';
import { VaultError } from '../errors.js';
import { isErrno, isNotFound, readIfExists, removeFile, removeStaleTemps, writeFileAtomic } from './atomic.js';
import { joinClient, joinConnection, parseSecret, splitClient, splitConnection } from './codec.js';
import type { KeySource } from './keysource.js';
import { describe, isValidName, type Layout, type RecordId } from './layout.js';
import { type HeldLock, withLock } from './lock.js';
import { checkFormat, formatOf, openRecordFile, parseRecordFile, RECORD_FORMAT, type RecordFile, sealRecordFile } from './record-file.js';
import {
  type ClientCredentials,
  type ConnectionMeta,
  type ConnectionName,
  type ConnectionRecord,
  type KeyBackend,
  type ListedConnection,
  UNCHANGED,
  type Vault,
} from './types.js';

type UpdateFn = Parameters<Vault['update']>[2];

export class FileVault implements Vault {
  readonly home: string;
  constructor(
    private readonly layout: Layout,
    private readonly keys: KeySource,
  ) {
    this.home = layout.home;
  }

  backend(): Promise<KeyBackend> {
    return this.keys.backend();
  }

  /** Unlock the master key and check it against vault.json's key-check value; touches no record. */
  async checkKey(): Promise<void> {
    await this.keys.masterKey();
  }

  async peek(provider: string, connection: string): Promise<ConnectionMeta | undefined> {
    return (await this.load(connectionId(provider, connection)))?.meta as ConnectionMeta | undefined;
  }

  async read(provider: string, connection: string): Promise<ConnectionRecord | undefined> {
    const id = connectionId(provider, connection);
    const file = await this.load(id);
    return file && this.openConnection(id, file);
  }

  /** Replaces whatever is stored without decrypting it, so `login --force` can recover a tampered record. */
  async write(record: ConnectionRecord): Promise<void> {
    const { meta, secret } = splitConnection(record);
    await this.storeLocked(connectionId(record.provider, record.connection), meta, Buffer.from(JSON.stringify(secret)));
  }

  async update(provider: string, connection: string, fn: UpdateFn): Promise<ConnectionRecord | undefined> {
    const id = connectionId(provider, connection);
    const file = this.layout.file(id);
    const key = await this.keys.masterKey(); // before locking: a slow keychain must not hold the lock
    return withLock(file, describe(id), async (lock) => {
      const stored = await this.load(id);
      const current = stored && (await this.openConnection(id, stored));
      const next = await fn(current);
      if (next === UNCHANGED) return current;
      if (next === undefined) {
        if (stored) await this.remove(id, lock);
        return undefined;
      }
      if (next.provider !== provider || next.connection !== connection) {
        throw new VaultError(`update of ${describe(id)} returned the record of ${next.provider}/${next.connection}`, {
          hint: 'this is a bug in keygate; please report it',
        });
      }
      const { meta, secret } = splitConnection(next);
      await this.store(key, id, meta, Buffer.from(JSON.stringify(secret)), lock);
      return joinConnection(meta, secret);
    });
  }

  async delete(provider: string, connection: string): Promise<boolean> {
    return this.removeLocked(connectionId(provider, connection));
  }

  async names(): Promise<ConnectionName[]> {
    const names: ConnectionName[] = [];
    for (const provider of await listDir(this.layout.connectionsDir)) {
      if (!isValidName(provider)) continue;
      for (const entry of await listDir(path.join(this.layout.connectionsDir, provider))) {
        // Skips temp files of killed writers and lock directories.
        const connection = entry.endsWith('.json') ? entry.slice(0, -'.json'.length) : '';
        if (isValidName(connection)) names.push({ provider, connection });
      }
    }
    return names.sort((a, b) => compare(a.provider, b.provider) || compare(a.connection, b.connection));
  }

  async list(): Promise<ListedConnection[]> {
    const names = await this.names();
    // A missing or wrong master key fails the whole listing, not each entry.
    if (names.length > 0) await this.keys.masterKey();
    const listed = await Promise.all(
      names.map(async ({ provider, connection }): Promise<ListedConnection | undefined> => {
        try {
          const record = await this.read(provider, connection);
          return record && { provider, connection, record }; // undefined: deleted since names()
        } catch (err) {
          return { provider, connection, error: err instanceof Error ? err : new Error(String(err)) };
        }
      }),
    );
    return listed.filter((entry) => entry !== undefined);
  }

  async readClient(provider: string): Promise<ClientCredentials | undefined> {
    const id: RecordId = { kind: 'client', provider };
    const file = await this.load(id);
    if (!file) return undefined;
    const plaintext = openRecordFile(await this.keys.masterKey(), id, this.layout.file(id), file);
    return joinClient(file.meta, parseSecret(plaintext, describe(id), this.layout.file(id)));
  }

  async writeClient(provider: string, credentials: ClientCredentials): Promise<void> {
    const { meta, secret } = splitClient(credentials);
    await this.storeLocked({ kind: 'client', provider }, meta, Buffer.from(JSON.stringify(secret)));
  }

  deleteClient(provider: string): Promise<boolean> {
    return this.removeLocked({ kind: 'client', provider });
  }

  async readSecret(name: string): Promise<Buffer | undefined> {
    const id: RecordId = { kind: 'secret', name };
    const file = await this.load(id);
    return file && openRecordFile(await this.keys.masterKey(), id, this.layout.file(id), file);
  }

  async writeSecret(name: string, data: Buffer): Promise<void> {
    await this.storeLocked({ kind: 'secret', name }, {}, data);
  }

  private async load(id: RecordId): Promise<RecordFile | undefined> {
    const file = this.layout.file(id);
    let bytes: Buffer | undefined;
    try {
      bytes = await readIfExists(file);
    } catch (err) {
      if (isErrno(err, 'EACCES') || isErrno(err, 'EPERM')) throw await unreadableFile(file, id, err);
      throw err;
    }
    return bytes && parseRecordFile(file, bytes, id);
  }

  private async openConnection(id: RecordId, file: RecordFile): Promise<ConnectionRecord> {
    const where = this.layout.file(id);
    const plaintext = openRecordFile(await this.keys.masterKey(), id, where, file);
    return joinConnection(file.meta as ConnectionMeta, parseSecret(plaintext, describe(id), where));
  }

  private async storeLocked(id: RecordId, meta: object, plaintext: Buffer): Promise<void> {
    const file = this.layout.file(id);
    const key = await this.keys.masterKey();
    await withLock(file, describe(id), (lock) => this.store(key, id, meta, plaintext, lock));
  }

  private async removeLocked(id: RecordId): Promise<boolean> {
    return withLock(this.layout.file(id), describe(id), (lock) => this.remove(id, lock));
  }

  private async store(key: Buffer, id: RecordId, meta: object, plaintext: Buffer, lock: HeldLock): Promise<void> {
    const file = this.layout.file(id);
    await this.refuseNewer(file);
    const text = sealRecordFile(key, id, meta, plaintext);
    lock.assertHeld();
    await removeStaleTemps(file);
    await writeFileAtomic(file, text);
  }

  private async remove(id: RecordId, lock: HeldLock): Promise<boolean> {
    const file = this.layout.file(id);
    await this.refuseNewer(file);
    lock.assertHeld();
    await removeStaleTemps(file);
    return removeFile(file);
  }

  /** A damaged or tampered file may be replaced (that is how the user recovers); a newer one never. */
  private async refuseNewer(file: string): Promise<void> {
    const bytes = await readIfExists(file);
    const format = bytes && formatOf(bytes);
    if (typeof format === 'number' && format > RECORD_FORMAT) checkFormat(file, format);
  }
}

/** EACCES on a record: name the file and the command that fixes its mode, never "unexpected error". */
async function unreadableFile(file: string, id: RecordId, cause: unknown): Promise<VaultError> {
  const owner = await fs.stat(file).then(
    (s) => s.uid,
    () => undefined,
  );
  return new VaultError(`cannot read ${describe(id)}: ${file} is not readable by you (permission denied)`, {
    hint: permissionHint(file, owner),
    cause,
  });
}

function connectionId(provider: string, connection: string): RecordId {
  return { kind: 'connection', provider, connection };
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await fs.readdir(dir);
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
