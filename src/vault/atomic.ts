// Crash-safe file replacement: a reader sees the old file or the new one, never a torn mix.
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

export const FILE_MODE = 0o600;
export const DIR_MODE = 0o700;
const TEMP_SUFFIX = '.tmp';

export async function ensureDir(dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: DIR_MODE });
}

/**
 * Write to a temp file in the same directory (rename is only atomic within a file system), fsync it,
 * rename it over the target, then fsync the directory so the rename itself survives a power cut.
 */
export async function writeFileAtomic(file: string, data: string | Buffer): Promise<void> {
  const dir = path.dirname(file);
  await ensureDir(dir);
  const temp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}${TEMP_SUFFIX}`;
  let renamed = false;
  try {
    const handle = await fs.open(temp, 'wx', FILE_MODE);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temp, file);
    renamed = true;
    await syncDir(dir);
  } finally {
    if (!renamed) await fs.rm(temp, { force: true });
  }
}

export async function removeFile(file: string): Promise<boolean> {
  try {
    await fs.unlink(file);
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
  await syncDir(path.dirname(file));
  return true;
}

/** The file's contents, or undefined when it does not exist. */
export async function readIfExists(file: string): Promise<Buffer | undefined> {
  try {
    return await fs.readFile(file);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/**
 * Remove temp files a killed writer left next to `file`. Only call it while holding the file's lock:
 * every writer of `file` holds that lock, so any temp file found then belongs to a dead process.
 */
export async function removeStaleTemps(file: string): Promise<void> {
  const dir = path.dirname(file);
  const prefix = `${path.basename(file)}.`;
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (err) {
    if (isNotFound(err)) return;
    throw err;
  }
  await Promise.all(
    names.filter((n) => n.startsWith(prefix) && n.endsWith(TEMP_SUFFIX)).map((n) => fs.rm(path.join(dir, n), { force: true })),
  );
}

export function isTempName(name: string): boolean {
  return name.endsWith(TEMP_SUFFIX);
}

async function syncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } catch (err) {
    // Some file systems (and Windows) cannot fsync a directory; the rename is still atomic there.
    if (!isErrno(err, 'EINVAL') && !isErrno(err, 'EPERM') && !isErrno(err, 'EISDIR')) throw err;
  } finally {
    await handle.close();
  }
}

export function isNotFound(err: unknown): boolean {
  return isErrno(err, 'ENOENT');
}

export function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as NodeJS.ErrnoException).code === code;
}
