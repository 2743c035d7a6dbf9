// keygate run [--connection <provider>/<name>]... [--sandbox | --no-sandbox] [--verbose] [--allow-nested] -- <command...>
import { keygateHome } from '../home.js';
import { createTokenAccess } from '../lifecycle/index.js';
import { loadProviders } from '../provider/index.js';
import { parseConnectionArgs } from '../run/connections.js';
import { runWithProxy } from '../run/index.js';
import { takeOwnSecrets } from '../run/own-env.js';
import { resolveSandboxMode } from '../sandbox/mode.js';
import { openStore } from '../store/index.js';
import type { CommandIO } from './io.js';

export async function main(command: string[], options: { connection?: string[]; verbose?: boolean; allowNested?: boolean; sandbox?: boolean }, io: CommandIO): Promise<number> {
  parseConnectionArgs(options.connection ?? []); // usage errors before any file is touched
  const env = takeOwnSecrets(io.env);
  const home = keygateHome(env);
  const vault = await openStore({ home, env, stderr: io.stderr });
  const providers = await loadProviders({ home });
  return runWithProxy({
    command,
    home,
    env,
    vault,
    providers,
    connections: options.connection,
    verbose: options.verbose,
    allowNested: options.allowNested,
    sandbox: resolveSandboxMode(options.sandbox),
    tokens: createTokenAccess(vault, providers),
    stderr: io.stderr,
  });
}
