// The bubblewrap command line for a sandboxed run. The sandbox is the user's own system minus what
// holds keygate's secrets:
//   - the whole filesystem bound read-write as it is (`--bind / /`, recursive), devices included, so
//     the working directory, $HOME, /tmp and the network (the proxy is on loopback) look as usual;
//   - a new PID namespace with its own /proc: keygate's process (its environment, its memory) has
//     no /proc entry inside;
//   - an empty tmpfs over KEYGATE_HOME and over keygate's runtime directory, with only this run's
//     public CA files bound back read-only;
//   - /dev/null over the D-Bus session bus socket(s) and gnome-keyring's control directory, so the
//     keychain holding the master key can't be asked;
//   - every capability dropped (bwrap keeps them for root otherwise, and root could unmount the tmpfs);
//   - a seccomp filter against TIOCSTI/TIOCLINUX (see seccomp.ts).
import fs from 'node:fs';
import path from 'node:path';
import { KeygateError } from '../errors.js';

export interface SandboxPaths {
  /** KEYGATE_HOME. */
  home: string;
  /** keygate's runtime directory (every run's files). */
  runtimeBase: string;
  /** This run's directory: bound back read-only so the command can read its CA bundle. */
  runDir: string;
  /** The command's working directory. */
  cwd: string;
}

/** Signals a terminal sends to its foreground process group; bwrap's monitor process must survive them. */
export const TERMINAL_SIGNALS = 'INT,QUIT,TERM,HUP';

export interface BwrapCommand {
  file: string;
  args: string[];
  /** Paths hidden from the command (for --verbose and the docs). */
  hidden: string[];
  /** Paths under which a bus socket could not be hidden (abstract sockets), for a notice. */
  unhiddenBus?: string;
}

/**
 * The argv that runs `command` (already resolved to an absolute path) in the sandbox. `seccompFd` is
 * the fd number bwrap reads the filter from, if any.
 *
 * Signals: bwrap's outer process waits for the sandbox and passes its exit code on (128+n for a
 * signal, as shells report it), but it does not forward signals, and a terminal's Ctrl-C reaches it
 * too, which would tear the sandbox down under a command that traps SIGINT. So bwrap starts with the
 * terminal signals ignored (`env --ignore-signal`), the command gets them back to their defaults
 * (`env --default-signal`, before it execs), and keygate forwards signals to the command itself.
 */
export function bwrapCommand(
  bwrap: string,
  command: readonly string[],
  paths: SandboxPaths,
  env: NodeJS.ProcessEnv,
  seccompFd?: number,
): BwrapCommand {
  const [file, ...args] = command;
  if (!file || !path.isAbsolute(file)) throw new Error('bwrapCommand needs the command resolved to an absolute path');
  if (file.includes('=')) {
    throw new KeygateError(`cannot run ${file} in the sandbox: its path holds "="`, {
      hint: 'run it through a path without "=", or pass --no-sandbox',
    });
  }
  const home = realpath(paths.home);
  const runtimeBase = realpath(paths.runtimeBase);
  const cwd = realpath(paths.cwd);
  for (const hiddenDir of [home, runtimeBase]) {
    if (within(cwd, hiddenDir)) {
      throw new KeygateError(`the working directory ${cwd} is inside ${hiddenDir}, which the sandbox hides`, {
        hint: 'run the command from another directory, or pass --no-sandbox',
      });
    }
  }

  const out = [
    '--die-with-parent',
    '--unshare-pid',
    '--bind',
    '/',
    '/',
    '--dev-bind',
    '/dev',
    '/dev',
    '--proc',
    '/proc',
    '--cap-drop',
    'ALL',
  ];
  const hidden: string[] = [];
  for (const dir of unique([home, runtimeBase])) {
    if (!isDirectory(dir)) continue;
    out.push('--tmpfs', dir);
    hidden.push(dir);
  }
  out.push('--ro-bind', paths.runDir, paths.runDir);
  const bus = busPaths(env);
  for (const socket of bus.paths) {
    out.push(isDirectory(socket) ? '--tmpfs' : '--ro-bind', ...(isDirectory(socket) ? [socket] : ['/dev/null', socket]));
    hidden.push(socket);
  }
  if (seccompFd !== undefined) out.push('--seccomp', String(seccompFd));
  out.push('--chdir', cwd, '--', '/usr/bin/env', `--default-signal=${TERMINAL_SIGNALS}`, '--', file, ...args);
  return { file: '/usr/bin/env', args: [`--ignore-signal=${TERMINAL_SIGNALS}`, bwrap, ...out], hidden, unhiddenBus: bus.abstract };
}

/**
 * The D-Bus session bus sockets named in DBUS_SESSION_BUS_ADDRESS (`unix:path=…`), the default
 * `$XDG_RUNTIME_DIR/bus`, and gnome-keyring's directory, when they exist. Abstract sockets have no
 * path to cover: they live in the network namespace, which the sandbox shares for the loopback proxy.
 */
export function busPaths(env: NodeJS.ProcessEnv): { paths: string[]; abstract?: string } {
  const found = new Set<string>();
  let abstract: string | undefined;
  for (const address of (env.DBUS_SESSION_BUS_ADDRESS ?? '').split(';')) {
    const [transport, rest] = [address.slice(0, address.indexOf(':')), address.slice(address.indexOf(':') + 1)];
    if (transport !== 'unix') continue;
    for (const pair of rest.split(',')) {
      const [key, value] = [pair.slice(0, pair.indexOf('=')), decodeDbusValue(pair.slice(pair.indexOf('=') + 1))];
      if (key === 'path') found.add(value);
      if (key === 'abstract') abstract = value;
    }
  }
  if (env.XDG_RUNTIME_DIR && path.isAbsolute(env.XDG_RUNTIME_DIR)) {
    found.add(path.join(env.XDG_RUNTIME_DIR, 'bus'));
    found.add(path.join(env.XDG_RUNTIME_DIR, 'keyring'));
  }
  return { paths: [...found].filter((p) => path.isAbsolute(p) && exists(p)), abstract };
}

/** D-Bus address values escape bytes as %xx. */
function decodeDbusValue(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function realpath(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

function within(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

function unique(list: string[]): string[] {
  // A directory inside another hidden one is covered already (and its mount point would vanish).
  return list.filter((p, i) => list.indexOf(p) === i && !list.some((q) => q !== p && within(p, q)));
}

function isDirectory(p: string): boolean {
  try {
    return fs.lstatSync(p).isDirectory();
  } catch {
    return false;
  }
}

function exists(p: string): boolean {
  try {
    fs.lstatSync(p);
    return true;
  } catch {
    return false;
  }
}
