// keygate run [--connection <provider>/<name>]... [--verbose] [--allow-nested] -- <command...>
import { keygateHome } from '../home.js';
import { createTokenAccess } from '../lifecycle/index.js';
import { loadProviderCatalog } from '../provider/index.js';
import { parseConnectionArgs } from '../run/connections.js';
import { runWithProxy } from '../run/index.js';
import { openStore } from '../store/index.js';
import type { CommandIO } from './io.js';

export async function main(command: string[], options: { connection?: string[]; verbose?: boolean; allowNested?: boolean }, io: CommandIO): Promise<number> {
  const refs = parseConnectionArgs(options.connection ?? []); // usage errors before any file is touched
  const home = keygateHome(io.env);
  const { providers, broken } = await loadProviderCatalog({ home });
  // A broken provider file stops the run only when that provider was asked for by name.
  for (const ref of refs) {
    const err = broken.get(ref.provider);
    if (err) throw err;
  }
  if (refs.length === 0) for (const [name, err] of broken) io.stderr(`keygate: provider ${name} is skipped: ${err.message}\n`);
  const vault = await openStore({ home, env: io.env, stderr: io.stderr });
  return runWithProxy({
    command,
    home,
    env: io.env,
    vault,
    providers,
    connections: options.connection,
    verbose: options.verbose,
    allowNested: options.allowNested,
    tokens: createTokenAccess(vault, providers, { warn: (line) => io.stderr(`${line}\n`) }),
    stderr: io.stderr,
  });
}
