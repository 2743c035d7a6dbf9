// The store's own schema, created and upgraded in place. Each migration runs once, in order, inside
// one transaction under an advisory lock, so hosts starting together never apply one twice. A
// database whose schema is newer than this keygate knows is refused, never written.
import { VaultError } from '../../errors.js';
import type { Database, Query } from './db.js';

interface Migration {
  version: number;
  why: string;
  statements: string[];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    why: 'key check and encrypted records',
    statements: [
      // One row: which master-key backend the store uses, its scrypt salt, and a fixed text sealed
      // under the key, so a host with the wrong key fails before it writes anything.
      `CREATE TABLE keygate_config (
         id smallint PRIMARY KEY CHECK (id = 1),
         backend text NOT NULL,
         scrypt jsonb,
         key_check jsonb NOT NULL,
         created_at timestamptz NOT NULL DEFAULT now()
       )`,
      // `doc` is the same sealed JSON document the file vault writes to a file (record-file.ts):
      // clear identity and metadata, AES-256-GCM ciphertext of the secrets, metadata in the AAD.
      `CREATE TABLE keygate_records (
         kind text NOT NULL CHECK (kind IN ('connection', 'client', 'secret')),
         provider text NOT NULL,
         name text NOT NULL,
         doc text NOT NULL,
         updated_at timestamptz NOT NULL DEFAULT now(),
         PRIMARY KEY (kind, provider, name)
       )`,
    ],
  },
  {
    version: 2,
    why: 'which host wrote each record last',
    statements: ['ALTER TABLE keygate_records ADD COLUMN updated_by text'],
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

// pg_advisory_xact_lock(namespace, key): this namespace is keygate's; key 0 is the schema.
export const LOCK_NAMESPACE = 0x6b67; // "kg"

/** Bring the schema to `target` (default: this keygate's), or refuse a newer one. */
export async function ensureSchema(db: Database, target = SCHEMA_VERSION): Promise<void> {
  const current = await currentVersion(db.query).catch((err: unknown) => {
    if ((err as { cause?: { code?: string } }).cause?.code === '42P01' || (err as { code?: string }).code === '42P01') return 0;
    throw err;
  });
  refuseNewer(current, db.location);
  if (current >= target) return;
  await db.transaction(async (query) => {
    await query('SELECT pg_advisory_xact_lock($1, 0)', [LOCK_NAMESPACE]);
    await query(`CREATE TABLE IF NOT EXISTS keygate_schema_version (
                   version integer PRIMARY KEY,
                   applied_at timestamptz NOT NULL DEFAULT now(),
                   why text NOT NULL
                 )`);
    const raced = await currentVersion(query);
    refuseNewer(raced, db.location);
    for (const migration of MIGRATIONS) {
      if (migration.version <= raced || migration.version > target) continue;
      for (const statement of migration.statements) await query(statement);
      await query('INSERT INTO keygate_schema_version (version, why) VALUES ($1, $2)', [migration.version, migration.why]);
    }
  });
}

async function currentVersion(query: Query): Promise<number> {
  const rows = await query<{ version: number | null }>('SELECT max(version) AS version FROM keygate_schema_version');
  return rows[0]?.version ?? 0;
}

function refuseNewer(version: number, location: string): void {
  if (version > SCHEMA_VERSION) {
    throw new VaultError(
      `the shared store ${location} was set up by a newer keygate (schema ${version}; this version knows ${SCHEMA_VERSION})`,
      {
        hint: 'upgrade keygate on this host; the database was left untouched',
      },
    );
  }
}
