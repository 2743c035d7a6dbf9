// Opening a PostgreSQL store is free: the pool connects, and the schema is checked (and created or
// upgraded), on the first query.
import path from 'node:path';
import { keygateHome } from '../../home.js';
import type { OpenStoreOptions, Store } from '../types.js';
import { Database } from './db.js';
import { SharedKeys } from './keys.js';
import { ensureSchema } from './schema.js';
import { PostgresStore } from './store.js';
import { redactUrl } from './url.js';

export { redactUrl } from './url.js';
export { SCHEMA_VERSION } from './schema.js';

export async function openPostgresStore(url: string, options: OpenStoreOptions = {}): Promise<Store> {
  const env = options.env ?? process.env;
  const db = new Database(url, redactUrl(url));
  let schema: Promise<void> | undefined;
  // Checked once per process; a failure (database down) is retried on the next call.
  const ready = () =>
    (schema ??= ensureSchema(db).catch((err: unknown) => {
      schema = undefined;
      throw err;
    }));
  return new PostgresStore(db, new SharedKeys(db, env, ready), ready, path.resolve(options.home ?? keygateHome(env)));
}
