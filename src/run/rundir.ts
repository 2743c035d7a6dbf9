// Each run's files (the CA bundles, the seccomp filter) live in a directory of its own under a
// private per-user base: $XDG_RUNTIME_DIR/keygate when the session has a runtime directory that is
// ours and private, else KEYGATE_HOME/run. The base is mode 0700 and owned by the user, checked
// without following symlinks, so no other user can plant or swap anything in it.
//
// A run killed with SIGKILL cannot clean up, so each run removes what dead runs left, carefully:
// only entries named like keygate's own (`<pid>-<random>`), whose pid is gone, that are real
// directories (not symlinks) owned by this user, and inside them only the file names keygate
// writes. Anything else is left where it is. (An earlier version deleted `$TMPDIR/keygate-run-*`
// recursively by path, whoever owned it; a directory swapped for a symlink redirected the delete.)
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { KeygateError } from '../errors.js';

/** Every file name a run writes in its directory; cleanup removes these and nothing else. */
export const RUN_FILE_NAMES = ['ca-bundle.pem', 'keygate-ca.pem', 'wgetrc', 'seccomp.bpf'] as const;
const ENTRY = /^(\d+)-[A-Za-z0-9]{6}$/;

export function runtimeBase(home: string, env: NodeJS.ProcessEnv): string {
  const xdg = env.XDG_RUNTIME_DIR;
  if (xdg && path.isAbsolute(xdg) && isPrivateDir(xdg)) return path.join(xdg, 'keygate');
  return path.join(home, 'run');
}

export interface RunDir {
  dir: string;
  base: string;
  /** Synchronous so it also works from an 'exit' handler. */
  remove: () => void;
}

export async function createRunDir(home: string, env: NodeJS.ProcessEnv): Promise<RunDir> {
  const base = runtimeBase(home, env);
  await ensurePrivateBase(base);
  await removeStale(base);
  // The pid in the name lets a later run tell a dead run's directory from a live one.
  const dir = await fsp.mkdtemp(path.join(base, `${process.pid}-`));
  return { dir, base, remove: () => removeRunFiles(dir) };
}

async function ensurePrivateBase(base: string): Promise<void> {
  await fsp.mkdir(path.dirname(base), { recursive: true, mode: 0o700 });
  await fsp.mkdir(base, { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
  const stat = await fsp.lstat(base);
  const uid = process.getuid?.();
  if (!stat.isDirectory() || (uid !== undefined && stat.uid !== uid)) {
    throw new KeygateError(`${base} is not a directory owned by you${stat.isSymbolicLink() ? ' (it is a symlink)' : ''}`, {
      hint: "keygate keeps each run's files there; remove it (or set XDG_RUNTIME_DIR to a private directory) and run again",
    });
  }
  if ((stat.mode & 0o077) !== 0) await fsp.chmod(base, 0o700);
}

async function removeStale(base: string): Promise<void> {
  const names = await fsp.readdir(base).catch(() => [] as string[]);
  const uid = process.getuid?.();
  for (const name of names) {
    const match = ENTRY.exec(name);
    if (!match || alive(Number(match[1]))) continue;
    const dir = path.join(base, name);
    const stat = await fsp.lstat(dir).catch(() => undefined);
    if (!stat?.isDirectory() || (uid !== undefined && stat.uid !== uid)) continue;
    removeRunFiles(dir);
  }
}

/** Unlinks keygate's own file names in `dir`, then the directory if that left it empty. Never recursive. */
function removeRunFiles(dir: string): void {
  for (const name of RUN_FILE_NAMES) {
    try {
      fs.unlinkSync(path.join(dir, name));
    } catch {
      // absent (or not ours to remove)
    }
  }
  try {
    fs.rmdirSync(dir);
  } catch {
    // not empty: something keygate did not write is in it, so it stays
  }
}

function isPrivateDir(dir: string): boolean {
  try {
    const stat = fs.lstatSync(dir);
    const uid = process.getuid?.();
    return stat.isDirectory() && (uid === undefined || stat.uid === uid) && (stat.mode & 0o077) === 0;
  } catch {
    return false;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
