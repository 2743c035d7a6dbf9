// Small file helpers for the proxy's own files (CA export, request log).
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

/** Replace `file` atomically (temp file + rename in the same directory), creating its directory 0700. */
export async function writeFileAtomic(file: string, data: string | Buffer, mode = 0o600): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  try {
    await fs.writeFile(temp, data, { mode, flag: 'wx' });
    await fs.rename(temp, file);
  } catch (err) {
    await fs.rm(temp, { force: true });
    throw err;
  }
}
