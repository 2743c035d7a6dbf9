// keygate log [--json] [--limit n]: the proxy's requests to provider hosts (never credentials).
import { UsageError } from '../errors.js';
import { keygateHome } from '../home.js';
import { readRequestLog } from '../proxy/log.js';
import type { CommandIO } from './io.js';
import { table } from './format.js';

export async function main(options: { json?: boolean; limit?: number }, io: CommandIO): Promise<void> {
  const limit = options.limit ?? 50;
  if (!Number.isInteger(limit) || limit < 1)
    throw new UsageError(`Expected \`--limit\` to be a positive integer, got \`${String(limit)}\``);
  const entries = await readRequestLog(keygateHome(io.env), limit);
  if (options.json) {
    io.stdout(`${JSON.stringify({ entries }, null, 2)}\n`);
    return;
  }
  if (entries.length === 0) {
    io.stdout('No proxied requests yet. Requests to provider APIs appear here after `keygate run -- <command>`.\n');
    return;
  }
  const rows = entries.map((e) => [
    e.time.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
    e.method,
    `${e.host}${e.path}`,
    String(e.status),
    e.connection ? `${e.provider}/${e.connection}` : e.provider,
    e.action,
    `${e.duration_ms} ms`,
    e.error ?? '',
  ]);
  io.stdout(table(['TIME', 'METHOD', 'URL', 'STATUS', 'CONNECTION', 'ACTION', 'DURATION', 'NOTE'], rows));
}
