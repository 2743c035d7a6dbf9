// Opens the store the user chose: the local file vault (default) or a PostgreSQL database shared by
// several hosts (KEYGATE_STORE=postgres://…). The PostgreSQL code and `pg` load only when chosen.
import { readConfigFile, storedValue } from '../config/index.js';
import { UsageError } from '../errors.js';
import { keygateHome } from '../home.js';
import { openFileStore } from './files.js';
import { guardMoves } from './guard.js';
import type { OpenStoreOptions, Store } from './types.js';

export * from './types.js';

/**
 * Where the vault lives: the option, else KEYGATE_STORE (which may carry a password), else the
 * `store` setting in KEYGATE_HOME's config file (which may not), else `files`.
 */
export function storeSetting(options: OpenStoreOptions = {}): string {
  const env = options.env ?? process.env;
  const value = (options.store ?? env.KEYGATE_STORE ?? '').trim();
  if (value !== '') return value;
  const configured = storedValue(readConfigFile(options.home ?? keygateHome(env)), 'store');
  return typeof configured === 'string' && configured.trim() !== '' ? configured.trim() : 'files';
}

export function isPostgresUrl(value: string): boolean {
  return /^postgres(ql)?:\/\//i.test(value);
}

export async function openStore(options: OpenStoreOptions = {}): Promise<Store> {
  return guardMoves(await openUnguarded(options));
}

/** The store without the guard against frozen (moving) connections: for `keygate store migrate` only. */
export async function openUnguarded(options: OpenStoreOptions = {}): Promise<Store> {
  const setting = storeSetting(options);
  if (setting === 'files') return openFileStore(options);
  if (isPostgresUrl(setting)) {
    const { openPostgresStore } = await import('./postgres/index.js');
    return openPostgresStore(setting, options);
  }
  // The value may hold a database password, so the message names only its scheme.
  const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(setting)?.[0] ?? 'a value that is not a URL';
  throw new UsageError(`KEYGATE_STORE must be \`files\` or a postgres:// URL, got ${scheme}`, {
    hint: 'unset it to use the local vault, or set it to postgres://user@host/db',
  });
}
