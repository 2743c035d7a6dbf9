// The cross-process lock as seen from one process: held while `update` awaits, and never used
// after it was lost.
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openVault } from '../../src/vault/index.js';
import { removeTempDirs, sampleRecord, tempHome } from './helpers.js';

afterAll(removeTempDirs);

describe('record locks', () => {
  it('an update whose lock was taken away writes nothing', async () => {
    const home = await tempHome();
    const vault = await openVault({ home, env: { KEYGATE_KEY_BACKEND: 'keyfile' } });
    await vault.write(sampleRecord('discord', 'lost'));
    const file = path.join(home, 'vault/connections/discord/lost.json');
    const before = await fs.readFile(file, 'utf8');
    const attempt = vault.update('discord', 'lost', async (r) => {
      // What another process does to a lock it judged stale; the holder notices on its next refresh (2 s).
      await fs.rm(`${file}.lock`, { recursive: true });
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      return { ...r!, status: 'revoked' };
    });
    await expect(attempt).rejects.toThrow(/lost the lock on discord\/lost .*nothing was written/);
    expect(await fs.readFile(file, 'utf8')).toBe(before);
  });

  it('update holds the lock while its callback awaits: callers never interleave', async () => {
    const home = await tempHome();
    const vault = await openVault({ home, env: { KEYGATE_KEY_BACKEND: 'keyfile' } });
    await vault.write({
      provider: 'discord',
      connection: 'held',
      tokens: { access_token: '0', token_type: 'Bearer', scopes: [] },
      account: null,
      status: 'connected',
      created_at: new Date().toISOString(),
    });
    let inside = 0;
    let maxInside = 0;
    const bump = () =>
      vault.update('discord', 'held', async (r) => {
        maxInside = Math.max(maxInside, ++inside);
        await new Promise((resolve) => setTimeout(resolve, 20)); // e.g. a token refresh over the network
        inside--;
        return { ...r!, tokens: { ...r!.tokens, access_token: String(Number(r!.tokens.access_token) + 1) } };
      });
    const other = await openVault({ home, env: { KEYGATE_KEY_BACKEND: 'keyfile' } });
    await Promise.all([bump(), bump(), bump(), other.update('discord', 'held', (r) => ({ ...r!, status: 'expired' }))]);
    expect(maxInside).toBe(1);
    const final = await vault.read('discord', 'held');
    expect(final?.tokens.access_token).toBe('3');
    expect(final?.status).toBe('expired');
  });
});
