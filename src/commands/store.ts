// keygate store migrate --to <files|postgres://...>
import { isPostgresUrl, openUnguarded } from '../store/index.js';
import { migrate } from '../store/migrate.js';
import { formatError, UsageError, VaultError } from '../errors.js';
import type { CommandIO } from './io.js';

export async function main(options: { to: string }, io: CommandIO): Promise<void> {
  const to = options.to.trim();
  if (to !== 'files' && !isPostgresUrl(to)) {
    throw new UsageError('--to must be `files` or a postgres:// URL', {
      hint: 'e.g. `keygate store migrate --to postgres://keygate@db.internal/keygate`',
    });
  }
  const source = await openUnguarded({ env: io.env, stderr: io.stderr });
  const destination = await openUnguarded({ env: io.env, stderr: io.stderr, store: to });
  try {
    const report = await migrate(source, destination);
    for (const ref of report.moved) io.stdout(`Moved ${ref}\n`);
    for (const { connection, error } of report.failed)
      io.stderr(`${formatError(error).replace(/^keygate: /, `keygate: ${connection} not moved: `)}\n`);
    const use =
      to === 'files'
        ? 'unset KEYGATE_STORE (or set it to `files`)'
        : `set KEYGATE_STORE to ${destination.location} (with its password, if any)`;
    io.stdout(
      `${report.moved.length} connection${report.moved.length === 1 ? '' : 's'} moved from ${source.location} to ${destination.location}. From now on, ${use} on every host that uses them.\n`,
    );
    if (report.failed.length > 0) {
      throw new VaultError(
        `${report.failed.length} connection${report.failed.length === 1 ? '' : 's'} not moved (see above); they are unchanged, or frozen where the message says so`,
        {
          hint: `fix what the message says and run \`keygate store migrate --to ${to === 'files' ? 'files' : destination.location}\` again; moved connections are not moved twice`,
        },
      );
    }
  } finally {
    await Promise.all([source.close(), destination.close()]);
  }
}
