// The PostgreSQL store: the file vault's records, sealed the same way (record-file.ts: AES-256-GCM,
// identity + clear metadata as AAD), one row each. The database never sees a secret in clear.
//
// Single flight across hosts: `update` runs its callback inside a transaction holding an advisory
// lock keyed by the record (taken whether or not the row exists yet) and re-reads the row after
// taking it. A host that waited sees what the winner stored. A host that dies mid-update loses its
// connection, and PostgreSQL rolls the transaction back and releases the lock: no half-written row.
import os from 'node:os';
import { VaultError } from '../../errors.js';
import { joinClient, joinConnection, parseSecret, splitClient, splitConnection } from '../../vault/codec.js';
import { checkName, describe, type RecordId } from '../../vault/layout.js';
import {
  checkFormat,
  formatOf,
  openRecordFile,
  parseRecordFile,
  RECORD_FORMAT,
  type RecordFile,
  sealRecordFile,
} from '../../vault/record-file.js';
import {
  type ClientCredentials,
  type ConnectionMeta,
  type ConnectionName,
  type ConnectionRecord,
  type KeyBackend,
  type ListedConnection,
  UNCHANGED,
} from '../../vault/types.js';
import type { Store } from '../types.js';
import type { Database, Query } from './db.js';
import type { SharedKeys } from './keys.js';
import { LOCK_NAMESPACE } from './schema.js';

type UpdateFn = Parameters<Store['update']>[2];

interface Key {
  kind: RecordId['kind'];
  provider: string;
  name: string;
}

export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  private readonly host = os.hostname();

  constructor(
    private readonly db: Database,
    private readonly keys: SharedKeys,
    private readonly ready: () => Promise<void>,
    /** KEYGATE_HOME: still where this host keeps its own files (CA export, request log, providers). */
    readonly home: string,
  ) {}

  get location(): string {
    return this.db.location;
  }

  backend(): Promise<KeyBackend> {
    return this.keys.backend();
  }

  async checkKey(): Promise<void> {
    await this.keys.masterKey();
  }

  close(): Promise<void> {
    return this.db.close();
  }

  async peek(provider: string, connection: string): Promise<ConnectionMeta | undefined> {
    return (await this.load(this.db.query, connectionId(provider, connection)))?.meta as ConnectionMeta | undefined;
  }

  async read(provider: string, connection: string): Promise<ConnectionRecord | undefined> {
    const id = connectionId(provider, connection);
    const doc = await this.load(this.db.query, id);
    return doc && this.openConnection(await this.keys.masterKey(), id, doc);
  }

  /** Replaces whatever is stored without decrypting it, so `login --force` can recover a damaged record. */
  async write(record: ConnectionRecord): Promise<void> {
    const { meta, secret } = splitConnection(record);
    await this.storeLocked(connectionId(record.provider, record.connection), meta, Buffer.from(JSON.stringify(secret)));
  }

  async update(provider: string, connection: string, fn: UpdateFn): Promise<ConnectionRecord | undefined> {
    const id = connectionId(provider, connection);
    const key = await this.keys.masterKey(); // before locking: a slow key derivation must not hold the lock
    return this.locked(id, async (query) => {
      const stored = await this.load(query, id);
      const current = stored && this.openConnection(key, id, stored);
      const next = await fn(current);
      if (next === UNCHANGED) return current;
      if (next === undefined) {
        if (stored) await this.remove(query, id, false);
        return undefined;
      }
      if (next.provider !== provider || next.connection !== connection) {
        throw new VaultError(`update of ${describe(id)} returned the record of ${next.provider}/${next.connection}`, {
          hint: 'this is a bug in keygate; please report it',
        });
      }
      const { meta, secret } = splitConnection(next);
      // No second format check: loading the row under the lock already refused a newer one.
      await this.store(query, key, id, meta, Buffer.from(JSON.stringify(secret)), false);
      return joinConnection(meta, secret);
    });
  }

  async delete(provider: string, connection: string): Promise<boolean> {
    const id = connectionId(provider, connection);
    return this.locked(id, (query) => this.remove(query, id));
  }

  async names(): Promise<ConnectionName[]> {
    await this.ready();
    // COLLATE "C": byte order, the order the file vault sorts names in.
    const rows = await this.db.query<{ provider: string; name: string }>(
      `SELECT provider, name FROM keygate_records WHERE kind = 'connection' ORDER BY provider COLLATE "C", name COLLATE "C"`,
    );
    return rows.map((r) => ({ provider: r.provider, connection: r.name }));
  }

  async list(): Promise<ListedConnection[]> {
    await this.ready();
    const rows = await this.db.query<{ provider: string; name: string; doc: string }>(
      `SELECT provider, name, doc FROM keygate_records WHERE kind = 'connection' ORDER BY provider COLLATE "C", name COLLATE "C"`,
    );
    // A missing or wrong master key fails the whole listing, not each entry.
    const key = rows.length > 0 ? await this.keys.masterKey() : undefined;
    return rows.map(({ provider, name, doc }): ListedConnection => {
      const id = connectionId(provider, name);
      try {
        return { provider, connection: name, record: this.openConnection(key!, id, this.parse(id, doc)) };
      } catch (err) {
        return { provider, connection: name, error: err instanceof Error ? err : new Error(String(err)) };
      }
    });
  }

  async readClient(provider: string): Promise<ClientCredentials | undefined> {
    const id: RecordId = { kind: 'client', provider };
    const doc = await this.load(this.db.query, id);
    if (!doc) return undefined;
    const plaintext = openRecordFile(await this.keys.masterKey(), id, this.where(id), doc);
    return joinClient(doc.meta, parseSecret(plaintext, describe(id), this.where(id)));
  }

  async writeClient(provider: string, credentials: ClientCredentials): Promise<void> {
    const { meta, secret } = splitClient(credentials);
    await this.storeLocked({ kind: 'client', provider }, meta, Buffer.from(JSON.stringify(secret)));
  }

  async deleteClient(provider: string): Promise<boolean> {
    const id: RecordId = { kind: 'client', provider };
    return this.locked(id, (query) => this.remove(query, id));
  }

  async readSecret(name: string): Promise<Buffer | undefined> {
    const id: RecordId = { kind: 'secret', name };
    const doc = await this.load(this.db.query, id);
    return doc && openRecordFile(await this.keys.masterKey(), id, this.where(id), doc);
  }

  async writeSecret(name: string, data: Buffer): Promise<void> {
    await this.storeLocked({ kind: 'secret', name }, {}, data);
  }

  /** Runs `fn` in a transaction holding the record's advisory lock. */
  private async locked<T>(id: RecordId, fn: (query: Query) => Promise<T>): Promise<T> {
    const key = rowKey(id); // validates the names before anything reaches the database
    await this.ready();
    return this.db.transaction(async (query) => {
      // Keyed by the record's identity, so it also serializes the creation of a row that does not exist
      // yet. The row is read by a LATER statement on purpose: under READ COMMITTED each statement sees
      // the data as of its own start, so a read folded into this statement would predate the wait and
      // miss what the previous holder committed (a lost update).
      await query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_NAMESPACE, `${key.kind}/${key.provider}/${key.name}`]);
      return fn(query);
    });
  }

  private async storeLocked(id: RecordId, meta: object, plaintext: Buffer): Promise<void> {
    const key = await this.keys.masterKey();
    await this.locked(id, (query) => this.store(query, key, id, meta, plaintext));
  }

  private async load(query: Query, id: RecordId): Promise<RecordFile | undefined> {
    const key = rowKey(id);
    await this.ready();
    const rows = await query<{ doc: string }>('SELECT doc FROM keygate_records WHERE kind = $1 AND provider = $2 AND name = $3', [
      key.kind,
      key.provider,
      key.name,
    ]);
    return rows[0] && this.parse(id, rows[0].doc);
  }

  private parse(id: RecordId, doc: string): RecordFile {
    return parseRecordFile(this.where(id), Buffer.from(doc, 'utf8'), id);
  }

  private openConnection(key: Buffer, id: RecordId, doc: RecordFile): ConnectionRecord {
    const where = this.where(id);
    return joinConnection(doc.meta as ConnectionMeta, parseSecret(openRecordFile(key, id, where, doc), describe(id), where));
  }

  private async store(query: Query, key: Buffer, id: RecordId, meta: object, plaintext: Buffer, checkFormat = true): Promise<void> {
    if (checkFormat) await this.refuseNewer(query, id);
    const k = rowKey(id);
    await query(
      `INSERT INTO keygate_records (kind, provider, name, doc, updated_at, updated_by) VALUES ($1, $2, $3, $4, now(), $5)
       ON CONFLICT (kind, provider, name) DO UPDATE SET doc = EXCLUDED.doc, updated_at = now(), updated_by = EXCLUDED.updated_by`,
      [k.kind, k.provider, k.name, sealRecordFile(key, id, meta, plaintext), this.host],
    );
  }

  private async remove(query: Query, id: RecordId, checkFormat = true): Promise<boolean> {
    if (checkFormat) await this.refuseNewer(query, id);
    const k = rowKey(id);
    const rows = await query('DELETE FROM keygate_records WHERE kind = $1 AND provider = $2 AND name = $3 RETURNING 1', [
      k.kind,
      k.provider,
      k.name,
    ]);
    return rows.length > 0;
  }

  /** A damaged row may be replaced (that is how the user recovers); one from a newer keygate never. */
  private async refuseNewer(query: Query, id: RecordId): Promise<void> {
    const k = rowKey(id);
    const rows = await query<{ doc: string }>('SELECT doc FROM keygate_records WHERE kind = $1 AND provider = $2 AND name = $3', [
      k.kind,
      k.provider,
      k.name,
    ]);
    const format = rows[0] && formatOf(Buffer.from(rows[0].doc, 'utf8'));
    if (typeof format === 'number' && format > RECORD_FORMAT) checkFormat(this.where(id), format);
  }

  /** How a row is named in messages: `postgres://host/db (discord/work)`. */
  private where(id: RecordId): string {
    return `${this.db.location} (${describe(id)})`;
  }
}

function connectionId(provider: string, connection: string): RecordId {
  return { kind: 'connection', provider, connection };
}

function rowKey(id: RecordId): Key {
  switch (id.kind) {
    case 'connection':
      return { kind: id.kind, provider: checkName('provider', id.provider), name: checkName('connection', id.connection) };
    case 'client':
      return { kind: id.kind, provider: checkName('provider', id.provider), name: '' };
    case 'secret':
      return { kind: id.kind, provider: '', name: checkName('secret', id.name) };
  }
}
