// `run` for the library and the CLI alike: the credentials, the proxy and the child's environment of
// src/run/, with the child handed back as soon as it is spawned.
import type { ChildProcess } from 'node:child_process';
import { KeygateError } from '../errors.js';
import { setting } from '../config/index.js';
import { createTokenAccess } from '../lifecycle/index.js';
import { loadProviderCatalog } from '../provider/index.js';
import { parseConnectionArgs } from '../run/connections.js';
import { runWithProxy } from '../run/index.js';
import type { Context } from './context.js';
import type { RunOptions, RunningCommand } from './types.js';

export async function startRun(ctx: Context, command: string, args: readonly string[], options: RunOptions = {}): Promise<RunningCommand> {
  const refs = parseConnectionArgs(options.connections ?? []); // usage errors before any file is touched
  // A bad setting is a usage error now, not a failure inside the proxy at the first refresh.
  setting('refresh.margin', { env: ctx.env, home: ctx.home });
  const sandbox = options.sandbox ?? setting('run.sandbox', { env: ctx.env, home: ctx.home });
  const { providers, broken } = await loadProviderCatalog({ home: ctx.home });
  // A broken provider file stops the run only when that provider was asked for by name.
  for (const ref of refs) {
    const err = broken.get(ref.provider);
    if (err) throw err;
  }
  if (refs.length === 0) for (const [name, err] of broken) ctx.stderr(`keygate: provider ${name} is skipped: ${err.message}\n`);
  const store = await ctx.store();
  let spawned: (child: ChildProcess) => void = () => {};
  const child = new Promise<ChildProcess>((resolve) => (spawned = resolve));
  const exit = runWithProxy({
    command: [command, ...args],
    home: ctx.home,
    env: options.env ? { ...ctx.env, ...options.env } : ctx.env,
    vault: store,
    providers,
    connections: options.connections,
    verbose: options.verbose,
    allowNested: options.allowNested,
    sandbox,
    tokens: createTokenAccess(store, providers, { warn: (line) => ctx.stderr(`${line}\n`) }),
    stderr: ctx.stderr,
    child: { onChild: spawned, stdio: options.stdio, forwardSignals: options.forwardSignals ?? false },
  });
  // A failure before the spawn (no such command, nested run) rejects the call itself.
  const running = await Promise.race([child, exit.then(() => undefined)]);
  if (!running) throw new KeygateError(`${command} ended before keygate saw it start`);
  if (options.stdio !== 'pipe') return { child: running, exit };
  // 'close' follows 'exit' once the child's pipes have ended, so a caller reading child.stdout has
  // all of it when `exit` resolves (execa waits for its streams the same way).
  const closed = new Promise<void>((resolve) => running.once('close', () => resolve()));
  return { child: running, exit: exit.then(async (code) => (await closed, code)) };
}
