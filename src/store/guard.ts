// Every store keygate's commands open is wrapped here, so no command can use a connection that
// `keygate store migrate` has frozen for its move to another store (see migrate.ts): reading,
// peeking, listing or updating it is an error naming where it is going. Only the migration itself
// opens stores without this guard.
import { VaultError } from '../errors.js';
import type { ConnectionMeta, ConnectionRecord, ListedConnection } from '../vault/types.js';
import type { Store } from './types.js';

export function movingError(record: Pick<ConnectionRecord, 'provider' | 'connection' | 'moving'>): VaultError {
  const to = record.moving!.to;
  return new VaultError(
    `${record.provider}/${record.connection} is being moved to ${to} (since ${record.moving!.at}) and is frozen in this store`,
    {
      hint: `finish the move with \`keygate store migrate --to ${to}\`, then use that store on every host`,
    },
  );
}

export function guardMoves(store: Store): Store {
  const check = <T extends Pick<ConnectionRecord, 'provider' | 'connection' | 'moving'> | ConnectionMeta | undefined>(record: T): T => {
    if (record?.moving) throw movingError(record);
    return record;
  };
  return {
    kind: store.kind,
    location: store.location,
    home: store.home,
    backend: () => store.backend(),
    checkKey: () => store.checkKey(),
    close: () => store.close(),
    peek: async (provider, connection) => check(await store.peek(provider, connection)),
    read: async (provider, connection) => check(await store.read(provider, connection)),
    write: (record) => store.write(record),
    update: (provider, connection, fn) => store.update(provider, connection, (current) => fn(check(current))),
    delete: (provider, connection) => store.delete(provider, connection),
    names: () => store.names(),
    list: async (): Promise<ListedConnection[]> =>
      (await store.list()).map((entry) =>
        entry.record?.moving ? { provider: entry.provider, connection: entry.connection, error: movingError(entry.record) } : entry,
      ),
    readClient: (provider) => store.readClient(provider),
    writeClient: (provider, credentials) => store.writeClient(provider, credentials),
    deleteClient: (provider) => store.deleteClient(provider),
    readSecret: (name) => store.readSecret(name),
    writeSecret: (name, data) => store.writeSecret(name, data),
  };
}
