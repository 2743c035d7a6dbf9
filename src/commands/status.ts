// keygate status [provider] [--connection] [--json]: live health; exit 5 if any is expired/revoked/unreadable.
import { ExitCode } from '../errors.js';
import type { CommandIO } from './io.js';
import { relativeTime, table } from './format.js';
import { withKeygate } from './keygate.js';

export async function main(
  providerName: string | undefined,
  options: { connection?: string; json?: boolean },
  io: CommandIO,
): Promise<number> {
  const results = await withKeygate(io, (keygate) => keygate.statuses({ provider: providerName, connection: options.connection }));
  const code = results.every((r) => r.healthy) ? ExitCode.ok : ExitCode.credential;
  if (options.json) {
    io.stdout(`${JSON.stringify({ healthy: code === ExitCode.ok, connections: results }, null, 2)}\n`);
    return code;
  }
  if (results.length === 0) {
    io.stdout('No connections yet. Connect one with `keygate login discord`.\n');
    return code;
  }
  const rows = results.map((r) => [
    r.provider,
    r.connection,
    r.status,
    r.account_name ?? '-',
    r.status !== 'connected' ? '-' : r.kind === 'bot' ? 'never (bot)' : `expires ${relativeTime(r.expires_at)}`,
    r.healthy || !r.hint ? r.detail : `${r.detail}; ${r.hint}`,
  ]);
  io.stdout(table(['PROVIDER', 'CONNECTION', 'STATUS', 'ACCOUNT', 'EXPIRY', 'DETAIL'], rows));
  return code;
}
