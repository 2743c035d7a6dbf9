// The child process: stdio inherited, signals forwarded, exit code passed through (128+signal when
// a signal killed it, as shells report it).
//
// What happens when keygate itself dies:
// - SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 are forwarded; keygate waits for the child and
//   exits with its code, so nothing is orphaned and the temp files go.
// - An uncaught error in keygate kills the child (SIGTERM from the 'exit' handler).
// - SIGKILL cannot be caught. In the sandbox, bwrap dies with keygate (--die-with-parent) and takes
//   the whole sandbox with it. Without one, the child keeps running, re-parented to init, but its
//   proxy is gone, so it can no longer reach any provider with a credential. The run's directory is
//   removed by the next `keygate run`.
// In the sandbox, keygate's child is bwrap, which does not forward signals: keygate signals the
// sandboxed command itself (found through /proc), and bwrap ignores the terminal's signals.
// A terminal's Ctrl-C (SIGINT) and Ctrl-\ (SIGQUIT) go to the whole foreground process group, the
// command included (it stays in keygate's group, sandboxed or not, so it can read the terminal).
// Forwarding those too would deliver a second copy ("cleanup interrupted by a second SIGINT"), so
// keygate forwards them only when it is not in the terminal's foreground group. So a Ctrl-C reaches
// the command once, and a `kill -INT <keygate>` from a script (no terminal, or a background job) is
// passed on; in a foreground terminal job, signal the group instead (`kill -INT -<pgid>`).
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { KeygateError } from '../errors.js';
import { type LaunchPlan, sandboxedPid } from '../sandbox/index.js';

export const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

/** Signals a terminal sends to its whole foreground process group (keyboard-generated). */
const TERMINAL_SIGNALS = new Set<NodeJS.Signals>(['SIGINT', 'SIGQUIT']);

/**
 * True when keygate's process group is its terminal's foreground group (Linux: /proc/self/stat,
 * fields pgrp and tpgid). Elsewhere, or without a terminal, false: the signal is forwarded.
 */
export function inForegroundGroup(): boolean {
  try {
    const stat = fs.readFileSync('/proc/self/stat', 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: split after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const pgrp = Number(fields[2]);
    const tpgid = Number(fields[5]);
    return tpgid > 0 && tpgid === pgrp;
  } catch {
    return false;
  }
}

export interface ChildOptions {
  env: NodeJS.ProcessEnv;
  /** Called once the child is running (tests, --verbose). */
  onSpawn?: (pid: number) => void;
  /** Given the child as soon as it is spawned (the library hands it to its caller). */
  onChild?: (child: ChildProcess) => void;
  /** Default `inherit`; `pipe` gives the caller the child's streams (library). */
  stdio?: 'inherit' | 'pipe';
  /**
   * Forward keygate's signals to the child (default true: the CLI). A library caller says false:
   * listening for SIGINT would take Ctrl-C's default exit away from the host process.
   */
  forwardSignals?: boolean;
  /** How to start it (the sandbox); default: the command itself. */
  launch?: LaunchPlan;
}

/** Runs `command` to completion and resolves with its exit code. */
export function runChild(command: readonly string[], options: ChildOptions): Promise<number> {
  const [file, ...args] = command;
  if (!file)
    return Promise.reject(new KeygateError('no command to run', { hint: 'put it after --, e.g. `keygate run -- python agent.py`' }));
  const launch = options.launch;
  return new Promise((resolve, reject) => {
    const io = options.stdio ?? 'inherit';
    const stdio = [io, io, io, ...(launch?.extraFds ?? [])] as const;
    const child = launch
      ? spawn(launch.file, launch.args, { stdio: [...stdio], env: options.env })
      : spawn(file, args, { stdio: io, env: options.env });
    launch?.release();
    const target = () => (launch?.sandboxed && child.pid !== undefined ? sandboxedPid(child.pid) : child.pid);
    const signalChild = (signal: NodeJS.Signals) => {
      const pid = target();
      if (pid === undefined) return false;
      try {
        process.kill(pid, signal);
        return true;
      } catch {
        return false;
      }
    };
    const forward = (signal: NodeJS.Signals) => () => {
      // The terminal already sent this one to the whole foreground group, the command included.
      if (TERMINAL_SIGNALS.has(signal) && inForegroundGroup()) return;
      // A signal that arrives while bwrap is still setting the sandbox up waits for the command.
      if (signalChild(signal) || !launch?.sandboxed) return;
      const retry = setInterval(() => {
        if (signalChild(signal) || child.exitCode !== null || child.signalCode !== null) clearInterval(retry);
      }, 10);
    };
    const handlers = (options.forwardSignals === false ? [] : FORWARDED_SIGNALS).map((signal) => [signal, forward(signal)] as const);
    const killOnExit = () => signalChild('SIGTERM');
    const cleanup = () => {
      for (const [signal, handler] of handlers) process.off(signal, handler);
      process.off('exit', killOnExit);
    };
    for (const [signal, handler] of handlers) process.on(signal, handler);
    process.on('exit', killOnExit);

    let spawned = false;
    child.once('spawn', () => {
      spawned = true;
      options.onSpawn?.(child.pid!);
      options.onChild?.(child);
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      // After the spawn, an error only means a signal could not be delivered: the child is gone or going.
      if (spawned) return;
      cleanup();
      if (err.code === 'ENOENT')
        reject(new KeygateError(`command not found: ${file}`, { hint: 'check the name and your PATH', cause: err }));
      else if (err.code === 'EACCES')
        reject(new KeygateError(`cannot execute ${file}`, { hint: 'check that it is executable', cause: err }));
      else reject(new KeygateError(`could not start ${file}: ${err.message}`, { cause: err }));
    });
    child.once('exit', (code, signal) => {
      cleanup();
      resolve(code ?? 128 + (signal ? (os.constants.signals[signal] ?? 0) : 0));
    });
  });
}
