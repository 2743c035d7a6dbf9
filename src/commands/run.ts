// keygate run [--connection <provider>/<name>]... [--sandbox | --no-sandbox] [--verbose] [--allow-nested] -- <command...>
import { setting } from '../config/index.js';
import { keygateHome } from '../home.js';
import { createTokenAccess } from '../lifecycle/index.js';
import { loadProviderCatalog } from '../provider/index.js';
import { parseConnectionArgs } from '../run/connections.js';
import { runWithProxy } from '../run/index.js';
import { takeOwnSecrets } from '../run/own-env.js';
import { resolveSandboxMode } from '../sandbox/mode.js';
import { openStore } from '../store/index.js';
import type { CommandIO } from './io.js';

export async function main(command: string[], options: { connection?: string[]; verbose?: boolean; allowNested?: boolean; sandbox?: boolean }, io: CommandIO): Promise<number> {
  const refs = parseConnectionArgs(options.connection ?? []); // usage errors before any file is touched
  const env = takeOwnSecrets(io.env);
  const home = keygateHome(env);
  // A bad setting is a usage error now, not a failure inside the proxy at the first refresh.
  setting('refresh.margin', { env, home });
  // --sandbox / --no-sandbox win over `keygate config set run.sandbox …`.
  const sandbox = resolveSandboxMode(options.sandbox, setting('run.sandbox', { env, home }));
  const { providers, broken } = await loadProviderCatalog({ home });
  // A broken provider file stops the run only when that provider was asked for by name.
  for (const ref of refs) {
    const err = broken.get(ref.provider);
    if (err) throw err;
  }
  if (refs.length === 0) for (const [name, err] of broken) io.stderr(`keygate: provider ${name} is skipped: ${err.message}\n`);
  const vault = await openStore({ home, env, stderr: io.stderr });
  return runWithProxy({
    command,
    home,
    env,
    vault,
    providers,
    connections: options.connection,
    verbose: options.verbose,
    allowNested: options.allowNested,
    sandbox,
    tokens: createTokenAccess(vault, providers, { warn: (line) => io.stderr(`${line}\n`) }),
    stderr: io.stderr,
  });
}
