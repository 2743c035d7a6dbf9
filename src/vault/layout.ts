// Where the vault keeps each file under KEYGATE_HOME, and which names are allowed in those paths.
//
//   vault/vault.json                             clear config: format, key backend, key check
//   vault/master.key                             32 random bytes (key-file backend only)
//   vault/connections/<provider>/<connection>.json
//   vault/clients/<provider>.json
//   vault/secrets/<name>.json
import path from 'node:path';
import { UsageError } from '../errors.js';

/** The identity of one encrypted file. It is authenticated with the ciphertext (see record-file.ts). */
export type RecordId =
  { kind: 'connection'; provider: string; connection: string } | { kind: 'client'; provider: string } | { kind: 'secret'; name: string };

// The contract's connection-name syntax (DESIGN.md, "Commands"); used for every name that becomes a
// path segment, which also rules out `..`, separators and our own `.tmp`/`.lock` suffixes.
const NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export function checkName(what: 'provider' | 'connection' | 'secret', value: string): string {
  if (typeof value !== 'string' || !NAME.test(value)) {
    throw new UsageError(`invalid ${what} name ${JSON.stringify(String(value)).slice(0, 80)}`, {
      hint: 'use 1–64 characters: lowercase letters, digits, "-" and "_", starting with a letter or digit',
    });
  }
  return value;
}

export function isValidName(value: string): boolean {
  return NAME.test(value);
}

/** How a record is named in messages: `discord/work`, `client credentials of discord`, `secret proxy-ca`. */
export function describe(id: RecordId): string {
  switch (id.kind) {
    case 'connection':
      return `${id.provider}/${id.connection}`;
    case 'client':
      return `client credentials of ${id.provider}`;
    case 'secret':
      return `secret ${id.name}`;
  }
}

export class Layout {
  readonly dir: string;
  constructor(readonly home: string) {
    this.dir = path.join(home, 'vault');
  }
  get config(): string {
    return path.join(this.dir, 'vault.json');
  }
  get keyFile(): string {
    return path.join(this.dir, 'master.key');
  }
  get connectionsDir(): string {
    return path.join(this.dir, 'connections');
  }
  file(id: RecordId): string {
    switch (id.kind) {
      case 'connection':
        return path.join(this.connectionsDir, checkName('provider', id.provider), `${checkName('connection', id.connection)}.json`);
      case 'client':
        return path.join(this.dir, 'clients', `${checkName('provider', id.provider)}.json`);
      case 'secret':
        return path.join(this.dir, 'secrets', `${checkName('secret', id.name)}.json`);
    }
  }
}
