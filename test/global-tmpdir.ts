// Vitest global set-up, first of all: the whole run (this process, the test workers and every child
// they start) works in one temporary directory of its own, removed when the run ends, so the suite
// leaves nothing in the machine's temp directory. What tests create there includes master keys and
// CA keys of test vaults. Mode 1777, like /tmp: the PostgreSQL server runs as `postgres`, and some
// tests run the CLI as another user.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

let dir: string | undefined;

export function setup(): void {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keygate-test-run-'));
  fs.chmodSync(dir, 0o1777);
  process.env.TMPDIR = dir;
}

export function teardown(): void {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}
