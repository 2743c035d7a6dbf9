// Cross-process locks, one per vault file, so concurrent keygate processes never lose an update.
import path from 'node:path';
import type lockfileModule from 'proper-lockfile';
import { VaultError } from '../errors.js';
import { ensureDir, isErrno } from './atomic.js';

// A holder refreshes its lock's mtime every UPDATE_MS; a lock untouched for STALE_MS belongs to a dead
// (e.g. SIGKILLed) process and is taken over. The gap leaves room for a busy event loop.
const STALE_MS = 10_000;
const UPDATE_MS = 2_000;
// Long enough to wait out a holder doing a token refresh over a slow network inside `update`.
export const LOCK_WAIT_MS = 60_000;
const MAX_BACKOFF_MS = 40;

// Loaded on first lock, not at start-up: read-only commands (`get --field status`, `list`) never lock.
let lockfile: typeof lockfileModule | undefined;
async function loadLockfile(): Promise<typeof lockfileModule> {
  lockfile ??= (await import('proper-lockfile')).default;
  return lockfile;
}

export interface HeldLock {
  /** Throws if the lock was lost (taken over as stale) so the caller does not write without it. */
  assertHeld(): void;
}

/** Run `fn` while holding the lock on `file`. `what` names the file in messages (e.g. `discord/work`). */
export async function withLock<T>(file: string, what: string, fn: (lock: HeldLock) => Promise<T>): Promise<T> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  return inProcessQueue(
    file,
    () => timedOut(file, what),
    deadline,
    async () => {
      let lost: Error | undefined;
      const release = await acquire(file, what, deadline, (err) => {
        lost = err;
      });
      const held: HeldLock = {
        assertHeld() {
          if (lost) {
            throw new VaultError(`lost the lock on ${what} (it was not refreshed for ${STALE_MS / 1000} s); nothing was written`, {
              hint: 'retry; if it keeps happening the machine is overloaded or the clock jumped',
              cause: lost,
            });
          }
        },
      };
      try {
        return await fn(held);
      } finally {
        // A compromised lock is already gone; releasing it again would only report that.
        if (!lost) await release().catch(() => undefined);
      }
    },
  );
}

async function acquire(file: string, what: string, deadline: number, onCompromised: (err: Error) => void): Promise<() => Promise<void>> {
  await ensureDir(path.dirname(file));
  const lockfile = await loadLockfile();
  let backoff = 2;
  for (;;) {
    try {
      // realpath: false because the file being guarded may not exist yet.
      return await lockfile.lock(file, { realpath: false, stale: STALE_MS, update: UPDATE_MS, retries: 0, onCompromised });
    } catch (err) {
      if (!isErrno(err, 'ELOCKED')) {
        throw new VaultError(`cannot lock ${what}`, { hint: `check permissions of ${path.dirname(file)}`, cause: err });
      }
    }
    if (Date.now() >= deadline) throw timedOut(file, what);
    // Jittered exponential backoff, capped low: critical sections are a few milliseconds, so a long
    // sleep would leave the lock idle while 20 writers queue up behind it.
    await sleep(backoff * (0.5 + Math.random()));
    backoff = Math.min(backoff * 1.5, MAX_BACKOFF_MS);
  }
}

function timedOut(file: string, what: string): VaultError {
  return new VaultError(`timed out after ${LOCK_WAIT_MS / 1000} s waiting for the lock on ${what}`, {
    hint: `another keygate process (or an update of the same record nested in an update) holds it; if no keygate is running, remove ${file}.lock`,
  });
}

// Callers in one process queue here instead of polling the lock directory against each other.
const queues = new Map<string, Promise<void>>();

async function inProcessQueue<T>(key: string, onTimeout: () => Error, deadline: number, fn: () => Promise<T>): Promise<T> {
  const previous = queues.get(key) ?? Promise.resolve();
  let done!: () => void;
  const turnOver = new Promise<void>((resolve) => (done = resolve));
  const mine = previous.then(() => turnOver);
  queues.set(key, mine);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      previous,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(onTimeout()), Math.max(0, deadline - Date.now()));
      }),
    ]);
    clearTimeout(timer);
    return await fn();
  } finally {
    clearTimeout(timer);
    // On a timeout this lets whoever queued behind us go once our predecessor is done.
    done();
    if (queues.get(key) === mine) queues.delete(key);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
