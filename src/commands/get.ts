// keygate get <provider> [--connection] [--field] [--json] [--reveal]
import { fixHint } from '../connection/hints.js';
import { ConnectionNotFoundError, CredentialError, UsageError } from '../errors.js';
import { getProvider } from '../provider/index.js';
import { openStore } from '../store/index.js';
import { describeInstallations, describeMeta, type ConnectionFields } from '../connection/describe.js';
import type { CommandIO } from './io.js';
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
  const provider = await getProvider(providerName);
  const vault = await openStore();
  const meta = await vault.peek(provider.name, options.connection);
  const ref = `${provider.name}/${options.connection}`;

  if (options.field === 'status') {
    io.stdout(`${printable(meta?.status ?? 'not_connected')}\n`);
    return;
  }
  if (!meta) {
    throw new ConnectionNotFoundError(`${ref} is not connected`, {
      hint: fixHint(provider.name, options.connection, 'not_connected'),
    });
  }
  if (options.field && SECRET_FIELDS.has(options.field)) {
    const { freshRecord } = await import('../lifecycle/index.js');
    const record = await freshRecord(vault, provider, options.connection);
    if (record.status !== 'connected') {
      throw new CredentialError(`${ref} is ${record.status}${record.status_reason ? ` (${record.status_reason})` : ''}`, {
        hint: fixHint(provider.name, options.connection, record.status, record.kind ?? 'user'),
      });
    }
    const value = options.field === 'access_token' ? record.tokens.access_token : record.tokens.refresh_token;
    if (value === undefined) throw new ConnectionNotFoundError(`${ref} has no ${options.field}`, { hint: 'the provider did not issue one' });
    io.stdout(`${value}\n`);
    return;
  }
  const fields = describeMeta(meta);
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
