// keygate list [--json]
import { openStore } from '../store/index.js';
import { describeMeta } from '../connection/describe.js';
import { describeUnreadable } from '../connection/unreadable.js';
import type { CommandIO } from './io.js';
import { relativeTime, table } from './format.js';

export async function main(options: { json?: boolean }, io: CommandIO): Promise<void> {
  const vault = await openStore();
  const entries = await vault.list();
  const connections = entries.map((entry) =>
    entry.record
      ? describeMeta({ ...entry.record, tokens: { ...entry.record.tokens, has_refresh_token: Boolean(entry.record.tokens.refresh_token) } })
      : describeUnreadable(entry.provider, entry.connection, entry.error),
  );
  const backend = entries.length ? await vault.backend() : undefined;
  if (options.json) {
    io.stdout(`${JSON.stringify({ vault: { home: vault.home, store: vault.kind, location: vault.location, key_backend: backend ?? null }, connections }, null, 2)}\n`);
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
      const servers = c.installations?.length ? `servers: ${c.installations.map((i) => i.guild_name).join(', ')}` : 'not installed (keygate install)';
      return [c.provider, c.connection, c.status, `${c.account_name ?? '-'} (bot)`, servers, c.status === 'connected' ? 'never' : (c.hint ?? '')];
    }
    return [c.provider, c.connection, c.status, c.account_name ?? '-', c.scopes || '-', c.status === 'connected' ? `expires ${relativeTime(c.expires_at)}` : (c.hint ?? '')];
  });
  io.stdout(table(['PROVIDER', 'CONNECTION', 'STATUS', 'ACCOUNT', 'SCOPES', 'EXPIRY'], rows));
  io.stdout(`\nVault: ${vault.location} (master key: ${backend})\n`);
}
