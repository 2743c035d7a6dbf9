// Records on disk and whether a key opens them: a new vault config must never be written over
// records it cannot read (that is how a deleted vault.json used to orphan every connection), and
// `keygate vault reset` lists the connections it sets aside.
import fs from 'node:fs/promises';
import path from 'node:path';
import { isNotFound } from './atomic.js';
import { isValidName, type Layout, type RecordId, describe } from './layout.js';
import { openRecordFile, parseRecordFile } from './record-file.js';

export interface RecordOnDisk {
  id: RecordId;
  file: string;
}

/** Every record file under the vault directory (connections, client credentials, secrets). */
export async function recordsOnDisk(layout: Layout): Promise<RecordOnDisk[]> {
  const out: RecordOnDisk[] = [];
  for (const provider of await subdirs(layout.connectionsDir)) {
    for (const connection of await names(path.join(layout.connectionsDir, provider)))
      out.push(entry(layout, { kind: 'connection', provider, connection }));
  }
  for (const provider of await names(path.join(layout.dir, 'clients'))) out.push(entry(layout, { kind: 'client', provider }));
  for (const name of await names(path.join(layout.dir, 'secrets'))) out.push(entry(layout, { kind: 'secret', name }));
  return out;
}

/** Records that exist, are intact, and fail authentication under `key` (so another key wrote them). */
export async function recordsKeyCannotOpen(layout: Layout, key: Buffer): Promise<string[]> {
  const orphans: string[] = [];
  for (const { id, file } of await recordsOnDisk(layout)) {
    let bytes: Buffer;
    try {
      bytes = await fs.readFile(file);
    } catch {
      continue; // gone or unreadable: nothing a key decides
    }
    try {
      openRecordFile(key, id, file, parseRecordFile(file, bytes, id));
    } catch {
      orphans.push(describe(id));
    }
  }
  return orphans;
}

function entry(layout: Layout, id: RecordId): RecordOnDisk {
  return { id, file: layout.file(id) };
}

/** `<name>.json` entries with a valid name (skips temp files and lock directories). */
async function names(dir: string): Promise<string[]> {
  return (await entries(dir))
    .filter((e) => e.isFile() && e.name.endsWith('.json'))
    .map((e) => e.name.slice(0, -'.json'.length))
    .filter(isValidName)
    .sort();
}

async function subdirs(dir: string): Promise<string[]> {
  return (await entries(dir))
    .filter((e) => e.isDirectory() && isValidName(e.name))
    .map((e) => e.name)
    .sort();
}

async function entries(dir: string): Promise<import('node:fs').Dirent[]> {
  try {
    return await fs.readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (isNotFound(err) || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
    throw err;
  }
}
