// keygate get <provider> [--connection] [--field] [--json] [--reveal]
import { revealToken } from '../api/keygate.js';
import { fixHint } from '../connection/hints.js';
import { ConnectionNotFoundError, UsageError } from '../errors.js';
import { describeInstallations, type ConnectionFields } from '../connection/describe.js';
import type { CommandIO } from './io.js';
import { withKeygate } from './keygate.js';
import { printable } from './format.js';

const SECRET_FIELDS = new Set(['access_token', 'refresh_token']);

interface GetOptions {
  connection: string;
  field?: keyof ConnectionFields | 'access_token' | 'refresh_token';
  json?: boolean;
  reveal?: boolean;
}

export async function main(providerName: string, options: GetOptions, io: CommandIO): Promise<void> {
  if (options.field && options.json) throw new UsageError('--field and --json cannot be combined', { hint: 'use one of them' });
  if (options.field && SECRET_FIELDS.has(options.field) && !options.reveal) {
    throw new UsageError(`--field ${options.field} prints a secret and needs --reveal`, {
      hint: `run \`keygate get ${providerName} --field ${options.field} --reveal\` (or use \`keygate run\`, which keeps secrets out of your agent)`,
    });
  }
  if (options.field === 'access_token' || options.field === 'refresh_token') {
    const field = options.field;
    io.stdout(`${await withKeygate(io, (keygate) => revealToken(keygate, providerName, options.connection, field))}\n`);
    return;
  }
  const fields = await withKeygate(io, (keygate) => keygate.connection(providerName, options.connection));
  if (options.field === 'status') {
    io.stdout(`${printable(fields?.status ?? 'not_connected')}\n`);
    return;
  }
  if (!fields) {
    throw new ConnectionNotFoundError(`${providerName}/${options.connection} is not connected`, {
      hint: fixHint(providerName, options.connection, 'not_connected'),
    });
  }
  if (options.field) {
    const value = fields[options.field as keyof ConnectionFields] ?? '';
    io.stdout(`${printable(Array.isArray(value) ? describeInstallations(value) : value)}\n`);
    return;
  }
  if (options.json) {
    // `get` reads the clear, authenticated-on-open metadata without decrypting the record (that is
    // what keeps `--field status` fast), so it says what it did not check; `keygate status` checks.
    io.stdout(`${JSON.stringify({ ...fields, verified: false, verified_by: 'keygate status' }, null, 2)}\n`);
    return;
  }
  const width = Math.max(...Object.keys(fields).map((k) => k.length));
  io.stdout(
    Object.entries(fields)
      .filter(([, v]) => v !== undefined && v !== null)
      .map(([k, v]) => `${k.padEnd(width)}  ${printable(Array.isArray(v) ? describeInstallations(v) : String(v))}`)
      .join('\n') + '\n',
  );
}
