import fs from 'node:fs/promises';
import path from 'node:path';
import { inspect } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { openVault, UNCHANGED, type Vault } from '../../src/vault/index.js';
import { allFiles, memoryKeychain, removeTempDirs, sampleRecord, tempHome } from './helpers.js';

afterAll(removeTempDirs);

const quiet = () => undefined;

async function exercise(vault: Vault): Promise<void> {
  const record = sampleRecord('discord', 'work');
  await vault.write(record);
  expect(await vault.read('discord', 'work')).toEqual(record);
  expect(await vault.read('discord', 'other')).toBeUndefined();

  await vault.writeClient('discord', { client_id: 'cid-123', client_secret: 'CLIENTSECRETVALUE' });
  expect(await vault.readClient('discord')).toEqual({ client_id: 'cid-123', client_secret: 'CLIENTSECRETVALUE' });
  await vault.writeSecret('proxy-ca', Buffer.from('-----BEGIN PRIVATE KEY----- CAKEYSECRETVALUE'));
  expect((await vault.readSecret('proxy-ca'))?.toString()).toBe('-----BEGIN PRIVATE KEY----- CAKEYSECRETVALUE');
  expect(await vault.readSecret('missing')).toBeUndefined();
}

describe('round trip', () => {
  it('works with a key file', async () => {
    const home = await tempHome();
    const vault = await openVault({ home, env: { KEYGATE_KEY_BACKEND: 'keyfile' }, stderr: quiet });
    await exercise(vault);
    expect(await vault.backend()).toBe('keyfile');
    const key = await fs.stat(path.join(home, 'vault/master.key'));
    expect(key.size).toBe(32);
    expect(key.mode & 0o777).toBe(0o600);
    // A second process (a new vault object) reads what the first wrote.
    const again = await openVault({ home, env: { KEYGATE_KEY_BACKEND: 'keyfile' }, stderr: quiet });
    expect((await again.read('discord', 'work'))?.tokens.access_token).toBe('at-discord-work-SECRETVALUE');
  });

  it('works with KEYGATE_PASSPHRASE', async () => {
    const home = await tempHome();
    const env = { KEYGATE_KEY_BACKEND: 'passphrase', KEYGATE_PASSPHRASE: 'correct horse' };
    await exercise(await openVault({ home, env, stderr: quiet }));
    const again = await openVault({ home, env: { KEYGATE_PASSPHRASE: 'correct horse' }, stderr: quiet });
    expect(await again.backend()).toBe('passphrase');
    expect((await again.read('discord', 'work'))?.tokens.refresh_token).toBe('rt-discord-work-SECRETVALUE');
    await expect(fs.stat(path.join(home, 'vault/master.key'))).rejects.toThrow();
  });

  it('works with the OS keychain (fake), one entry per home', async () => {
    const home = await tempHome();
    const keychain = memoryKeychain();
    await exercise(await openVault({ home, env: {}, keychain, stderr: quiet }));
    expect([...keychain.entries.keys()]).toEqual([expect.stringMatching(/^keygate\/vault:[0-9a-f]{32}$/)]);
    const again = await openVault({ home, env: {}, keychain, stderr: quiet });
    expect(await again.backend()).toBe('keychain');
    expect((await again.read('discord', 'work'))?.tokens.access_token).toBe('at-discord-work-SECRETVALUE');
    await expect(fs.stat(path.join(home, 'vault/master.key'))).rejects.toThrow();
  });
});

describe('without the master key', () => {
  it('opens, peeks and lists names without touching the keychain', async () => {
    const home = await tempHome();
    const keychain = memoryKeychain();
    const writer = await openVault({ home, env: {}, keychain, stderr: quiet });
    await writer.write(sampleRecord('discord', 'work'));
    await writer.write(sampleRecord('discord', 'default'));
    await writer.write(sampleRecord('github', 'default'));

    const calls = keychain.calls;
    const reader = await openVault({ home, env: {}, keychain, stderr: quiet });
    expect(await reader.names()).toEqual([
      { provider: 'discord', connection: 'default' },
      { provider: 'discord', connection: 'work' },
      { provider: 'github', connection: 'default' },
    ]);
    const meta = await reader.peek('discord', 'work');
    expect(meta).toMatchObject({ provider: 'discord', connection: 'work', status: 'connected', account: { id: '42', name: 'alice' } });
    expect(meta?.tokens).toEqual({
      token_type: 'Bearer',
      expires_at: '2030-01-01T00:00:00.000Z',
      scopes: ['identify', 'email'],
      has_refresh_token: true,
    });
    expect(await reader.peek('discord', 'nope')).toBeUndefined();
    expect(await reader.backend()).toBe('keychain');
    expect(keychain.calls).toBe(calls);
  });

  it('peeks a passphrase vault with KEYGATE_PASSPHRASE unset', async () => {
    const home = await tempHome();
    await (
      await openVault({ home, env: { KEYGATE_PASSPHRASE: 'pw', KEYGATE_KEY_BACKEND: 'passphrase' } })
    ).write(sampleRecord('discord', 'default'));
    const vault = await openVault({ home, env: {} });
    expect((await vault.peek('discord', 'default'))?.status).toBe('connected');
    await expect(vault.read('discord', 'default')).rejects.toThrow(/KEYGATE_PASSPHRASE, which is not set/);
  });
});

describe('records', () => {
  it('update reads under the lock, can keep or delete, and delete reports existence', async () => {
    const vault = await openVault({ home: await tempHome(), env: { KEYGATE_KEY_BACKEND: 'keyfile' } });
    const created = await vault.update('discord', 'default', (current) => {
      expect(current).toBeUndefined();
      return sampleRecord('discord', 'default');
    });
    expect(created?.tokens.access_token).toBe('at-discord-default-SECRETVALUE');
    const kept = await vault.update('discord', 'default', async (current) => (current ? UNCHANGED : undefined));
    expect(kept).toEqual(created);
    const changed = await vault.update('discord', 'default', (current) => ({
      ...current!,
      status: 'revoked',
      status_reason: 'refresh token refused (invalid_grant)',
    }));
    expect(changed?.status).toBe('revoked');
    expect((await vault.peek('discord', 'default'))?.status_reason).toBe('refresh token refused (invalid_grant)');
    expect(await vault.update('discord', 'default', () => undefined)).toBeUndefined();
    expect(await vault.read('discord', 'default')).toBeUndefined();
    await vault.write(sampleRecord('discord', 'default'));
    expect(await vault.delete('discord', 'default')).toBe(true);
    expect(await vault.delete('discord', 'default')).toBe(false);
    await vault.writeClient('discord', { client_id: 'x' });
    expect(await vault.readClient('discord')).toEqual({ client_id: 'x' });
    expect(await vault.deleteClient('discord')).toBe(true);
    expect(await vault.readClient('discord')).toBeUndefined();
  });

  it('lists readable records', async () => {
    const vault = await openVault({ home: await tempHome(), env: { KEYGATE_KEY_BACKEND: 'keyfile' } });
    expect(await vault.list()).toEqual([]);
    await vault.write(sampleRecord('discord', 'b'));
    await vault.write(sampleRecord('discord', 'a'));
    const listed = await vault.list();
    expect(listed.map((e) => `${e.provider}/${e.connection}`)).toEqual(['discord/a', 'discord/b']);
    expect(listed[0]?.record).toEqual(sampleRecord('discord', 'a'));
  });

  it('refuses names that could escape the vault directory', async () => {
    const vault = await openVault({ home: await tempHome(), env: { KEYGATE_KEY_BACKEND: 'keyfile' } });
    await expect(vault.read('../etc', 'x')).rejects.toThrow(/invalid provider name/);
    await expect(vault.peek('discord', 'A/..')).rejects.toThrow(/invalid connection name/);
    await expect(vault.writeSecret('a.b', Buffer.from('x'))).rejects.toThrow(/invalid secret name/);
  });
});

describe('secrets stay secret', () => {
  it('no secret appears in any file under KEYGATE_HOME, in clear, base64, base64url or hex', async () => {
    for (const env of [{ KEYGATE_KEY_BACKEND: 'keyfile' }, { KEYGATE_KEY_BACKEND: 'passphrase', KEYGATE_PASSPHRASE: 'PASSPHRASESECRET' }]) {
      const home = await tempHome();
      const vault = await openVault({ home, env });
      await exercise(vault);
      await vault.update('discord', 'work', (r) => ({ ...r!, refreshed_at: new Date().toISOString() }));
      const secrets = [
        'at-discord-work-SECRETVALUE',
        'rt-discord-work-SECRETVALUE',
        'CLIENTSECRETVALUE',
        'CAKEYSECRETVALUE',
        'PASSPHRASESECRET',
      ];
      const needles = secrets.flatMap((s) => {
        const b = Buffer.from(s);
        // Base64 of a substring at each of the three alignments, so an embedded secret is found too.
        const inner = [0, 1, 2].map((o) => b.subarray(o).toString('base64').slice(0, 16));
        return [s, b.toString('hex'), b.toString('base64url').slice(0, 16), ...inner];
      });
      const files = await allFiles(home);
      expect(files.length).toBeGreaterThan(3);
      for (const { file, bytes } of files) {
        for (const needle of needles) expect(bytes.includes(needle), `${needle} found in ${file}`).toBe(false);
      }
    }
  });

  it('files are 0600 and directories 0700', async () => {
    const home = await tempHome();
    const vault = await openVault({ home, env: { KEYGATE_KEY_BACKEND: 'keyfile' } });
    await exercise(vault);
    for (const entry of await fs.readdir(path.join(home, 'vault'), { withFileTypes: true, recursive: true })) {
      const stat = await fs.stat(path.join(entry.parentPath, entry.name));
      expect(stat.mode & 0o777, entry.name).toBe(entry.isDirectory() ? 0o700 : 0o600);
    }
    expect((await fs.stat(path.join(home, 'vault'))).mode & 0o777).toBe(0o700);
  });

  it('inspecting a decrypted record shows no token', async () => {
    const vault = await openVault({ home: await tempHome(), env: { KEYGATE_KEY_BACKEND: 'keyfile' } });
    await exercise(vault);
    const shown = inspect([await vault.read('discord', 'work'), await vault.readClient('discord')], { depth: 5 });
    expect(shown).toContain('[redacted]');
    expect(shown).not.toContain('SECRETVALUE');
    expect(shown).toContain('alice');
  });
});
