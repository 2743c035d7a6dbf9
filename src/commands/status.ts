// keygate status [provider] [--connection] [--json]: live health; exit 5 if any is expired/revoked/unreadable.
import { ConnectionNotFoundError, ExitCode } from '../errors.js';
import { getProvider } from '../provider/index.js';
import { openStore } from '../store/index.js';
import { checkHealth, type Health } from '../lifecycle/health.js';
import { fixHint } from '../connection/hints.js';
import { describeUnreadable } from '../connection/unreadable.js';
import type { CommandIO } from './io.js';
import { relativeTime, table } from './format.js';

export async function main(providerName: string | undefined, options: { connection?: string; json?: boolean }, io: CommandIO): Promise<number> {
  const vault = await openStore();
  const only = providerName ? (await getProvider(providerName)).name : undefined;
  const targets = (await vault.list()).filter((e) => (!only || e.provider === only) && (!options.connection || e.connection === options.connection));
  if (targets.length === 0) {
    if (only && options.connection) throw new ConnectionNotFoundError(`${only}/${options.connection} is not connected`, { hint: fixHint(only, options.connection, 'not_connected') });
    if (only || options.connection) throw new ConnectionNotFoundError(`no connections match`, { hint: 'see `keygate list`' });
  }
  const results: Health[] = [];
  for (const entry of targets) {
    if (entry.error) {
      const unreadable = describeUnreadable(entry.provider, entry.connection, entry.error);
      results.push({ ...unreadable, kind: 'user', healthy: false, detail: unreadable.error, scopes: [], checked_live: false });
      continue;
    }
    results.push(await checkHealth(vault, await getProvider(entry.provider), entry.connection));
  }
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
