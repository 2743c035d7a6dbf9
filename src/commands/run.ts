// keygate run [--connection <provider>/<name>]... [--sandbox | --no-sandbox] [--verbose] [--allow-nested] -- <command...>
import { takeOwnSecrets } from '../run/own-env.js';
import { resolveSandboxMode } from '../sandbox/mode.js';
import type { CommandIO } from './io.js';
import { withKeygate } from './keygate.js';

export async function main(
  command: string[],
  options: { connection?: string[]; verbose?: boolean; allowNested?: boolean; sandbox?: boolean },
  io: CommandIO,
): Promise<number> {
  const [file = '', ...args] = command;
  // keygate's own secrets leave process.env before anything starts; the library gets the copy.
  const env = takeOwnSecrets(io.env);
  // --sandbox / --no-sandbox win over `keygate config set run.sandbox …`, which the library reads when no flag is given.
  const sandbox = options.sandbox === undefined ? undefined : resolveSandboxMode(options.sandbox);
  return withKeygate({ ...io, env }, async (keygate) => {
    const { exit } = await keygate.run(file, args, {
      connections: options.connection,
      sandbox,
      verbose: options.verbose,
      allowNested: options.allowNested,
      forwardSignals: true,
    });
    return exit;
  });
}
