// Where keygate keeps its files: KEYGATE_HOME, or the platform config dir; and whether it is safe.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KeygateError, UsageError } from './errors.js';

export function keygateHome(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.KEYGATE_HOME;
  if (fromEnv && fromEnv.trim() !== '') return path.resolve(fromEnv);
  if (process.platform === 'darwin') {
    return path.join(os.homedir(), 'Library', 'Preferences', 'keygate');
  }
  if (process.platform === 'win32') {
    return path.join(env.APPDATA ?? path.join(os.homedir(), 'AppData', 'Roaming'), 'keygate', 'Config');
  }
  const xdg = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.trim() !== '' ? env.XDG_CONFIG_HOME : path.join(os.homedir(), '.config');
  return path.join(xdg, 'keygate');
}

/** The package root (holds providers/, bin/), found from this compiled file's location. */
export const packageRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

export interface HomeProblem {
  kind: 'not_directory' | 'unreadable' | 'owner' | 'mode';
  message: string;
  hint: string;
}

/**
 * Why keygate must not use this home, or undefined when it may (a missing home is fine: it is
 * created 0700 on first write). As ssh's StrictModes: the directory must be the user's own and not
 * writable by group or others, or another local user could swap the vault or the provider files
 * (which decide where tokens are sent) under us.
 */
export function inspectHome(home: string): HomeProblem | undefined {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(home);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ENOTDIR') return notDirectory(home);
    return {
      kind: 'unreadable',
      message: `KEYGATE_HOME ${home} cannot be read (${code ?? 'error'})`,
      hint: `check the permissions of ${home} and its parent directories`,
    };
  }
  if (!stat.isDirectory()) return notDirectory(home);
  const uid = process.getuid?.();
  if (uid === undefined) return undefined; // Windows: no POSIX owner and mode bits to check
  if (stat.uid !== uid) {
    return {
      kind: 'owner',
      message: `KEYGATE_HOME ${home} belongs to uid ${stat.uid}, not to you (uid ${uid}); keygate refuses it, as ssh does`,
      hint: `use a directory you own (unset KEYGATE_HOME for the default), or run \`chown ${uid} ${home}\` as root`,
    };
  }
  if ((stat.mode & 0o022) !== 0) {
    const who = stat.mode & 0o002 ? 'everyone' : 'its group';
    return {
      kind: 'mode',
      message: `KEYGATE_HOME ${home} is writable by ${who} (mode ${(stat.mode & 0o777).toString(8).padStart(4, '0')}); keygate refuses it, as ssh does`,
      hint: `run \`chmod go-w ${home}\``,
    };
  }
  return undefined;
}

function notDirectory(home: string): HomeProblem {
  return {
    kind: 'not_directory',
    message: `KEYGATE_HOME ${home} is not a directory`,
    hint: 'point KEYGATE_HOME at a directory (or unset it for the default)',
  };
}

const checked = new Set<string>();
/** Throws when keygate must not use `home` (see inspectHome); checked once per process. */
export function checkHome(home: string): void {
  if (checked.has(home)) return;
  const problem = inspectHome(home);
  if (problem?.kind === 'not_directory') throw new UsageError(problem.message, { hint: problem.hint });
  if (problem) throw new KeygateError(problem.message, { hint: problem.hint });
  checked.add(home);
}
