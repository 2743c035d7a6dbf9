// The child's sandbox (DESIGN.md, "`run` and the proxy"): on Linux, bubblewrap. This module decides
// whether there is one, builds the command line, and finds the sandboxed command's process so
// signals reach it. It knows nothing of the proxy or the vault.
import fs from 'node:fs';
import path from 'node:path';
import { KeygateError } from '../errors.js';
import { bwrapCommand } from './bwrap.js';
import type { SandboxMode } from './mode.js';
import { findExecutable, probeSandbox } from './probe.js';
import { terminalInjectionFilter } from './seccomp.js';

export { resolveSandboxMode, SANDBOX_MODES, type SandboxMode } from './mode.js';
export { findExecutable, probeSandbox } from './probe.js';

/** How to start the command: directly, or through bwrap. */
export interface LaunchPlan {
  sandboxed: boolean;
  file: string;
  args: string[];
  /** Extra file descriptors for the spawn (fd 3 onwards); closed by `release()`. */
  extraFds: number[];
  /** What the sandbox hides (for --verbose). */
  hidden: string[];
  /** One line to print before the run, or undefined. */
  notice?: string;
  release(): void;
}

export interface PlanOptions {
  mode: SandboxMode;
  command: readonly string[];
  /** The child's environment (PATH for finding the command, the D-Bus address). */
  env: NodeJS.ProcessEnv;
  home: string;
  runtimeBase: string;
  runDir: string;
  cwd?: string;
}

/** What execvp searches when PATH is unset (glibc's default). */
const DEFAULT_PATH = '/bin:/usr/bin';

/** What a same-user process can reach when there is no sandbox: said once, in the warning. */
export const UNSANDBOXED_EXPOSURE = "the command can read KEYGATE_HOME (the vault and its key file), keygate's memory and the keychain";

export function planLaunch(options: PlanOptions): LaunchPlan {
  const [name, ...args] = options.command;
  const direct = (notice?: string): LaunchPlan => ({
    sandboxed: false,
    file: name,
    args,
    extraFds: [],
    hidden: [],
    notice,
    release: () => undefined,
  });
  if (options.mode === 'off') return direct();
  const probe = probeSandbox(options.env);
  if (!probe.ok) {
    if (options.mode === 'require') throw new KeygateError(`--sandbox: ${probe.reason}`, { hint: probe.fix });
    return direct(`no sandbox: ${probe.reason}, so ${UNSANDBOXED_EXPOSURE} — ${probe.fix}, or pass --no-sandbox to silence this`);
  }
  const cwd = options.cwd ?? process.cwd();
  // Resolved here, not by bwrap, so a missing command gets keygate's own message (and exit 1), and
  // nothing ever falls back to running outside the sandbox.
  const resolved = findExecutable(name, options.env.PATH ?? DEFAULT_PATH, cwd);
  if (!resolved) {
    const found = name.includes('/') && fs.existsSync(path.resolve(cwd, name));
    throw found
      ? new KeygateError(`cannot execute ${name}`, { hint: 'check that it is executable' })
      : new KeygateError(`command not found: ${name}`, { hint: 'check the name and your PATH' });
  }

  const filter = terminalInjectionFilter();
  let fd: number | undefined;
  if (filter) {
    const file = path.join(options.runDir, 'seccomp.bpf');
    fs.writeFileSync(file, filter, { mode: 0o600, flag: 'wx' });
    fd = fs.openSync(file, 'r');
  }
  try {
    const command = bwrapCommand(
      probe.bwrap,
      [resolved, ...args],
      { home: options.home, runtimeBase: options.runtimeBase, runDir: options.runDir, cwd },
      options.env,
      fd === undefined ? undefined : 3,
    );
    const notice = command.unhiddenBus
      ? `the D-Bus session bus is an abstract socket (${command.unhiddenBus}), which the sandbox cannot hide: the keychain stays reachable`
      : undefined;
    return {
      sandboxed: true,
      file: command.file,
      args: command.args,
      extraFds: fd === undefined ? [] : [fd],
      hidden: command.hidden,
      notice,
      release: () => {
        if (fd !== undefined) fs.closeSync(fd);
        fd = undefined;
      },
    };
  } catch (err) {
    if (fd !== undefined) fs.closeSync(fd);
    throw err;
  }
}

/**
 * The host pid of the sandboxed command: bwrap (`outer`) → the sandbox's pid 1 (bwrap's init) → the
 * command. Undefined until the command has started (or after it ended).
 */
export function sandboxedPid(outer: number): number | undefined {
  const init = firstChild(outer);
  return init === undefined ? undefined : firstChild(init);
}

function firstChild(pid: number): number | undefined {
  try {
    const first = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)[0];
    return first ? Number(first) : undefined;
  } catch {
    return undefined;
  }
}
