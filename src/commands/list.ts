// keygate list [--json]
import type { CommandIO } from './io.js';
import { relativeTime, table } from './format.js';
import { withKeygate } from './keygate.js';

export async function main(options: { json?: boolean }, io: CommandIO): Promise<void> {
  const [connections, vault] = await withKeygate(io, async (keygate) => [await keygate.connections(), await keygate.storeInfo()] as const);
  if (options.json) {
    io.stdout(`${JSON.stringify({ vault, connections }, null, 2)}\n`);
    return;
  }
  if (connections.length === 0) {
    io.stdout('No connections yet. Connect one with `keygate login discord`.\n');
    return;
  }
  const rows = connections.map((c) => {
    if ('error' in c) return [c.provider, c.connection, 'unreadable', '-', '-', `${c.error}; ${c.hint}`];
    if (c.kind === 'bot') {
      // A bot has no scopes; where it is installed is what tells bots apart.
      const servers = c.installations?.length
        ? `servers: ${c.installations.map((i) => i.guild_name).join(', ')}`
        : 'not installed (keygate install)';
      return [
        c.provider,
        c.connection,
        c.status,
        `${c.account_name ?? '-'} (bot)`,
        servers,
        c.status === 'connected' ? 'never' : (c.hint ?? ''),
      ];
    }
    return [
      c.provider,
      c.connection,
      c.status,
      c.account_name ?? '-',
      c.scopes || '-',
      c.status === 'connected' ? `expires ${relativeTime(c.expires_at)}` : (c.hint ?? ''),
    ];
  });
  io.stdout(table(['PROVIDER', 'CONNECTION', 'STATUS', 'ACCOUNT', 'SCOPES', 'EXPIRY'], rows));
  io.stdout(`\nVault: ${vault.location} (master key: ${vault.key_backend})\n`);
}
