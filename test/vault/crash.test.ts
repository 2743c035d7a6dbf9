// Writers killed with SIGKILL in the middle of writing: the vault must stay readable, and the lock
// they leave behind must be recovered once it goes stale.
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openVault } from '../../src/vault/index.js';
import { buildVaultForChildren, fixture, removeTempDirs, tempHome } from './helpers.js';

afterAll(removeTempDirs);

const KILLS = 50;
const env = { ...process.env, KEYGATE_KEY_BACKEND: 'keyfile' };

let vaultModule: string;
beforeAll(async () => {
  vaultModule = await buildVaultForChildren();
});

/** Start a writer that rewrites discord/crash in a loop, let it write for a moment, SIGKILL it. */
async function killMidWrite(home: string, delayMs: number): Promise<void> {
  const args = JSON.stringify({ home, provider: 'discord', connection: 'crash', mode: 'churn' });
  const child = spawn(process.execPath, [fixture('writer.mjs'), vaultModule, args], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
    child.on('exit', (code) => reject(new Error(`writer exited with ${code} before it was ready`)));
  });
  await new Promise((resolve) => setTimeout(resolve, delayMs));
  child.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');
}

/** Stand-in for waiting out the 10 s stale period: age the dead writer's lock directory. */
async function ageLock(lockDir: string): Promise<void> {
  const past = new Date(Date.now() - 60_000);
  await fs.utimes(lockDir, past, past).catch(() => undefined);
}

describe(`a writer killed with SIGKILL mid-write (${KILLS} times)`, () => {
  it('leaves the previous or the new record readable, never a torn one', async () => {
    const home = await tempHome();
    const vault = await openVault({ home, env: { KEYGATE_KEY_BACKEND: 'keyfile' } });
    const dir = path.join(home, 'vault/connections/discord');
    const lockDir = path.join(dir, 'crash.json.lock');
    let last = 0;
    let tempsLeft = 0;
    let locksLeft = 0;
    for (let i = 0; i < KILLS; i++) {
      await ageLock(lockDir);
      await killMidWrite(home, i % 10);
      const record = await vault.read('discord', 'crash');
      const count = Number(record?.tokens.access_token);
      expect(count, `after kill ${i}`).toBeGreaterThan(last);
      last = count;
      const entries = await fs.readdir(dir);
      if (entries.some((e) => e.endsWith('.tmp'))) tempsLeft++;
      if (entries.includes('crash.json.lock')) locksLeft++;
      expect(await vault.names()).toEqual([{ provider: 'discord', connection: 'crash' }]);
    }
    // Evidence the kills landed inside writes (a temp file left) and inside locked sections.
    expect(tempsLeft).toBeGreaterThan(0);
    expect(locksLeft).toBeGreaterThan(0);

    // The next writer takes over the stale lock and sweeps the dead writers' temp files.
    await ageLock(lockDir);
    const after = await vault.update('discord', 'crash', (r) => ({ ...r!, status: 'expired' }));
    expect(after?.tokens.access_token).toBe(String(last));
    expect((await fs.readdir(dir)).filter((e) => e !== 'crash.json')).toEqual([]);
  }, 90_000);
});
