// `keygate vault reset`: the explicit way to start a fresh vault after the master key is lost.
// Nothing is deleted: the whole vault directory (records, client credentials, the key file, the
// config) is renamed aside in one atomic step, and the next use creates a new vault. The
// connections found there are returned so the user knows what to log in to again.
import fs from 'node:fs/promises';
import path from 'node:path';
import { isNotFound } from './atomic.js';
import { Layout } from './layout.js';
import { recordsOnDisk } from './orphans.js';

export interface ResetPlan {
  vaultDir: string;
  connections: Array<{ provider: string; connection: string }>;
  exists: boolean;
}

export async function planReset(home: string): Promise<ResetPlan> {
  const layout = new Layout(home);
  const exists = await fs.stat(layout.dir).then(
    () => true,
    (err: unknown) => (isNotFound(err) ? false : Promise.reject(err as Error)),
  );
  const connections = (await recordsOnDisk(layout)).flatMap(({ id }) =>
    id.kind === 'connection' ? [{ provider: id.provider, connection: id.connection }] : [],
  );
  return { vaultDir: layout.dir, connections, exists };
}

/** Renames the vault directory to `vault.reset-<UTC time>` beside it; returns that path. */
export async function setVaultAside(home: string, now = new Date()): Promise<string> {
  const layout = new Layout(home);
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  const aside = path.join(home, `vault.reset-${stamp}`);
  await fs.rename(layout.dir, aside);
  return aside;
}
