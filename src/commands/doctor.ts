// keygate doctor [provider] [--connection <name>] [--port <n>] [--json]: exit 0 when every check passes.
import { ExitCode } from '../errors.js';
import { runDoctor } from '../doctor/index.js';
import type { CommandIO } from './io.js';

export async function main(
  provider: string | undefined,
  options: { connection?: string; port: number; json?: boolean },
  io: CommandIO,
): Promise<number> {
  const checks = await runDoctor({ provider, connection: options.connection, port: options.port, env: io.env });
  const ok = checks.every((c) => c.verdict !== 'fail');
  if (options.json) {
    io.stdout(`${JSON.stringify({ ok, checks }, null, 2)}\n`);
  } else {
    for (const c of checks) {
      const mark = c.verdict === 'pass' ? '✓' : c.verdict === 'fail' ? '✗' : '-';
      io.stdout(`${mark} ${c.title}: ${c.detail}\n`);
      if (c.fix) io.stdout(`    fix: ${c.fix}\n`);
    }
    const failed = checks.filter((c) => c.verdict === 'fail').length;
    io.stdout(failed === 0 ? '\nAll checks passed.\n' : `\n${failed} check${failed > 1 ? 's' : ''} failed.\n`);
  }
  return ok ? ExitCode.ok : ExitCode.error;
}
