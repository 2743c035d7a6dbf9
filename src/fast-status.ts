// `keygate get <provider> --field status` is what scripts and health checks poll, so it gets a path
// that skips the CLI framework and the vault's key machinery: a directory check and one file read.
// Anything unusual (another flag, a user provider file to validate, an unreadable record) returns
// false and the full CLI answers instead, with its validation and error messages.
import fs from 'node:fs';
import path from 'node:path';
import { inspectHome, keygateHome, packageRoot } from './home.js';
import { Layout, isValidName } from './vault/layout.js';
import { parseRecordFile } from './vault/record-file.js';

export function fastStatus(argv: readonly string[]): boolean {
  const request = parse(argv);
  if (!request) return false;
  // A shared store (KEYGATE_STORE=postgres://…) is not in these files: the full CLI asks it.
  const store = process.env.KEYGATE_STORE?.trim();
  if (store && store !== 'files') return false;
  const home = keygateHome();
  if (inspectHome(home)) return false; // an unsafe or broken home: the full CLI refuses it, with why
  // So is a store chosen in the config file (`keygate config set store postgres://…`).
  if (configuredStore(home) !== 'files') return false;
  if (request.provider === 'schema' || !fs.existsSync(path.join(packageRoot, 'providers', `${request.provider}.json`))) return false;
  if (fs.existsSync(path.join(home, 'providers', `${request.provider}.json`))) return false;
  const id = { kind: 'connection', provider: request.provider, connection: request.connection } as const;
  const file = new Layout(home).file(id);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return false;
    process.stdout.write('not_connected\n');
    return true;
  }
  try {
    const { meta } = parseRecordFile(file, bytes, id);
    // A connection frozen by `keygate store migrate` gets the full CLI's error, not its old status; a
    // status other than the three stored ones (a tampered file) goes the slow way, which escapes it.
    const status = meta.status;
    if ((status !== 'connected' && status !== 'expired' && status !== 'revoked') || meta.moving) return false;
    process.stdout.write(`${status}\n`);
    return true;
  } catch {
    return false;
  }
}

function parse(argv: readonly string[]): { provider: string; connection: string } | undefined {
  if (argv[0] !== 'get' || argv.length < 4) return undefined;
  let provider: string | undefined;
  let connection = 'default';
  let field: string | undefined;
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--field' || arg === '--connection') {
      const value = argv[++i];
      if (value === undefined) return undefined;
      if (arg === '--field') field = value;
      else connection = value;
    } else if (arg.startsWith('--field=')) field = arg.slice(8);
    else if (arg.startsWith('--connection=')) connection = arg.slice(13);
    else if (!arg.startsWith('-') && provider === undefined) provider = arg;
    else return undefined;
  }
  if (field !== 'status' || !provider || !isValidName(provider) || !isValidName(connection)) return undefined;
  return { provider, connection };
}

/** The `store` setting of the config file; `files` without one, undefined when unsure (the CLI decides). */
function configuredStore(home: string): string | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path.join(home, 'config.json'), 'utf8');
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'files' : undefined;
  }
  try {
    const store = (JSON.parse(text) as { store?: unknown }).store;
    return store === undefined || store === 'files' ? 'files' : undefined;
  } catch {
    return undefined;
  }
}
