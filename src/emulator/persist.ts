// The emulator's memory across restarts, for people trying keygate by hand: `state.json` in the
// emulator's directory holds the applications (with redirect URIs registered by flag or admin call),
// the live grants and their tokens, and the port last listened on. A login made yesterday keeps
// working after the emulator restarts, as it would against discord.com.
//
// Writes are coalesced: every change marks the state dirty, and one write per turn of the event loop
// (temp file + rename, mode 0600) saves it, so a burst of refreshes under load costs one write.
// The tokens are the emulator's own test values, but the file is still 0600: it is a bearer secret
// for anything pointed at the emulator.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { EmulatorState, StateSnapshot } from './state.js';

export const STATE_FILE = 'state.json';

export interface SavedState extends StateSnapshot {
  /** The port the emulator last listened on; a restart without --port reuses it. */
  port?: number;
}

export interface StateFile {
  /** Absolute path of state.json. */
  path: string;
  /** Write now if anything changed (on stop). */
  flush(): void;
}

/** Reads `state.json` from `dir` (undefined if absent); throws a TypeError naming the file if it is unreadable. */
export function readSavedState(dir: string): SavedState | undefined {
  const file = path.join(path.resolve(dir), STATE_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let saved: unknown;
  try {
    saved = JSON.parse(text);
  } catch {
    throw new TypeError(`${file} is not valid JSON`);
  }
  if (!isSavedState(saved)) throw new TypeError(`${file} is not an emulator state file (version 1)`);
  return saved;
}

/** Restores `state` from `dir`'s state file, then keeps the file up to date with every change. */
export function attachStateFile(dir: string, state: EmulatorState, port: number): StateFile {
  const file = path.join(path.resolve(dir), STATE_FILE);
  const saved = readSavedState(dir);
  if (saved) state.restore(saved);
  let dirty = false;
  let scheduled = false;
  const write = () => {
    scheduled = false;
    if (!dirty) return;
    dirty = false;
    const body: SavedState = { ...state.snapshot(), port };
    const temp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    fs.writeFileSync(temp, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
    fs.renameSync(temp, file);
  };
  state.onChange = () => {
    dirty = true;
    if (!scheduled) {
      scheduled = true;
      setImmediate(write);
    }
  };
  // Record the port (and any clients passed in) at once, so `keygate emulator --env` can read it.
  dirty = true;
  write();
  return { path: file, flush: write };
}

function isSavedState(value: unknown): value is SavedState {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<SavedState>;
  return (
    v.version === 1 &&
    typeof v.sequence === 'number' &&
    Array.isArray(v.clients) &&
    v.clients.every((c) => typeof c?.client_id === 'string' && typeof c.client_secret === 'string' && Array.isArray(c.redirect_uris)) &&
    Array.isArray(v.grants) &&
    v.grants.every(
      (g) => typeof g?.id === 'string' && typeof g.client_id === 'string' && typeof g.user_id === 'string' && Array.isArray(g.scopes),
    ) &&
    (v.port === undefined || (Number.isInteger(v.port) && v.port > 0 && v.port < 65_536))
  );
}
