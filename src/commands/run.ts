// keygate run [--connection <provider>/<name>]... [--verbose] [--allow-nested] -- <command...>
import type { CommandIO } from './io.js';
import { withKeygate } from './keygate.js';

export async function main(command: string[], options: { connection?: string[]; verbose?: boolean; allowNested?: boolean }, io: CommandIO): Promise<number> {
  const [file = '', ...args] = command;
  return withKeygate(io, async (keygate) => {
    const { exit } = await keygate.run(file, args, { connections: options.connection, verbose: options.verbose, allowNested: options.allowNested, forwardSignals: true });
    return exit;
  });
}
