// `keygate store migrate --to <files|postgres://…>`: move every connection from the store in use to
// another, without re-consent, and never with a connection live in both.
//
// Discord refresh tokens are single-use: if both stores could refresh the same connection, the first
// refresh would leave the other store with a dead token (invalid_grant, then "revoked"). So each
// connection moves in three steps, each safe to crash after and to run again:
//   1. freeze: under the source record's lock, mark it `moving` to the destination. Every keygate
//      (any host, through the guard in guard.ts) refuses to read or refresh a frozen record, and a
//      refresh already running holds the lock, so it finishes before the freeze and is carried over.
//   2. copy: write the record, tokens as they are, to the destination (marked `migrated_from`). A
//      destination copy from an earlier, interrupted run of the same move is kept: it may have been
//      refreshed since, and the frozen source never was.
//   3. remove: delete the frozen record from the source.
// At every point at most one store can refresh the connection: the source until step 1, the
// destination from step 2. Client credentials and keygate's own secrets (proxy CA) are copied when
// the destination has none, and left in the source: they are not single-use.
import { UsageError, VaultError } from '../errors.js';
import { UNCHANGED, type ConnectionRecord } from '../vault/types.js';
import type { Store } from './types.js';

// keygate's own named secrets that travel with the vault (src/proxy/ca.ts).
const SECRETS = ['proxy-ca-key', 'proxy-leaf-certs'];

export interface MigrationReport {
  moved: string[];
  /** Connections that could not be moved, with why (they stay where they were). */
  failed: Array<{ connection: string; error: Error }>;
  clients: string[];
}

export async function migrate(source: Store, destination: Store, now: () => Date = () => new Date()): Promise<MigrationReport> {
  if (source.location === destination.location) {
    throw new UsageError(`the store in use is already ${destination.location}`, {
      hint: 'name another store with --to (files, or a postgres:// URL)',
    });
  }
  // A wrong key on either side fails here, before anything is frozen.
  await source.checkKey();
  await destination.checkKey();
  const report: MigrationReport = { moved: [], failed: [], clients: [] };
  const providers = new Set<string>();
  for (const { provider, connection } of await source.names()) {
    const ref = `${provider}/${connection}`;
    providers.add(provider);
    try {
      if (await moveConnection(source, destination, provider, connection, now)) report.moved.push(ref);
    } catch (err) {
      report.failed.push({ connection: ref, error: err instanceof Error ? err : new Error(String(err)) });
    }
  }
  for (const provider of providers) {
    const client = await source.readClient(provider);
    if (client && !(await destination.readClient(provider))) {
      await destination.writeClient(provider, client);
      report.clients.push(provider);
    }
  }
  for (const name of SECRETS) {
    const data = await source.readSecret(name);
    if (data && !(await destination.readSecret(name))) await destination.writeSecret(name, data);
  }
  return report;
}

/** Returns false when the connection vanished from the source meanwhile. */
async function moveConnection(source: Store, destination: Store, provider: string, connection: string, now: () => Date): Promise<boolean> {
  const to = destination.location;
  // 1. freeze
  const frozen = await source.update(provider, connection, (current) => {
    if (!current) return UNCHANGED;
    if (current.moving && current.moving.to !== to) {
      throw new VaultError(`${provider}/${connection} is being moved to ${current.moving.to}, not ${to}`, {
        hint: `finish that move first: \`keygate store migrate --to ${current.moving.to}\``,
      });
    }
    return current.moving ? UNCHANGED : { ...current, moving: { to, at: now().toISOString() } };
  });
  if (!frozen) return false;
  // 2. copy
  await destination.update(provider, connection, (current) => {
    if (current?.migrated_from?.from === source.location) return UNCHANGED; // an interrupted run's copy
    if (current && current.tokens.refresh_token !== frozen.tokens.refresh_token) {
      throw new VaultError(
        `${provider}/${connection} already exists in ${to} with other tokens; it was left frozen in ${source.location}`,
        {
          hint: `remove one of the two: \`keygate logout ${provider}${connection === 'default' ? '' : ` --connection ${connection}`}\` with that store in use, then run the migration again`,
        },
      );
    }
    const { moving: _, ...record } = frozen;
    return { ...record, migrated_from: { from: source.location, at: now().toISOString() } } satisfies ConnectionRecord;
  });
  // 3. remove
  await source.update(provider, connection, (current) => (current?.moving?.to === to ? undefined : UNCHANGED));
  return true;
}
