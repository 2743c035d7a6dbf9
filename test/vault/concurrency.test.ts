// Real processes racing on one vault: every read-modify-write must survive.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openVault } from '../../src/vault/index.js';
import { buildVaultForChildren, fixture, removeTempDirs, tempHome } from './helpers.js';

afterAll(removeTempDirs);

const run = promisify(execFile);
const PROCESSES = 20;
const INCREMENTS = 25;
const env = { ...process.env, KEYGATE_KEY_BACKEND: 'keyfile' };

let vaultModule: string;
beforeAll(async () => {
  vaultModule = await buildVaultForChildren();
});

function writer(home: string, connection: string): Promise<unknown> {
  const args = JSON.stringify({ home, provider: 'discord', connection, count: INCREMENTS, mode: 'increment' });
  return run(process.execPath, [fixture('writer.mjs'), vaultModule, args], { env, timeout: 85_000 });
}

describe(`${PROCESSES} writer processes × ${INCREMENTS} updates each`, () => {
  it('on the same connection lose no update (and agree on one master key at first use)', async () => {
    const home = await tempHome();
    await Promise.all(Array.from({ length: PROCESSES }, () => writer(home, 'shared')));
    const vault = await openVault({ home, env: { KEYGATE_KEY_BACKEND: 'keyfile' } });
    expect((await vault.read('discord', 'shared'))?.tokens.access_token).toBe(String(PROCESSES * INCREMENTS));
  }, 90_000);

  it('on different connections lose no update', async () => {
    const home = await tempHome();
    await Promise.all(Array.from({ length: PROCESSES }, (_, i) => writer(home, `c${i}`)));
    const vault = await openVault({ home, env: { KEYGATE_KEY_BACKEND: 'keyfile' } });
    const listed = await vault.list();
    expect(listed).toHaveLength(PROCESSES);
    for (const entry of listed) expect(entry.record?.tokens.access_token, entry.connection).toBe(String(INCREMENTS));
  }, 90_000);
});
