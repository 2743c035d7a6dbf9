import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { VaultError } from '../../src/errors.js';
import { openVault, type Keychain } from '../../src/vault/index.js';
import { hangingKeychain, memoryKeychain, removeTempDirs, sampleRecord, tempHome } from './helpers.js';

afterAll(removeTempDirs);

function collect(): { lines: string[]; stderr: (text: string) => void } {
  const lines: string[] = [];
  return { lines, stderr: (text) => lines.push(text) };
}

describe('passphrase', () => {
  it('a wrong KEYGATE_PASSPHRASE is a clear error, never garbage', async () => {
    const home = await tempHome();
    await (
      await openVault({ home, env: { KEYGATE_KEY_BACKEND: 'passphrase', KEYGATE_PASSPHRASE: 'right' } })
    ).write(sampleRecord('discord', 'default'));
    const vault = await openVault({ home, env: { KEYGATE_PASSPHRASE: 'wrong' } });
    const err = await vault.read('discord', 'default').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VaultError);
    expect((err as VaultError).message).toBe('wrong KEYGATE_PASSPHRASE');
    expect((err as VaultError).hint).toMatch(/passphrase the vault was created with/);
    // list fails as a whole rather than reporting every record as tampered.
    await expect(vault.list()).rejects.toThrow('wrong KEYGATE_PASSPHRASE');
  });

  it('a recorded passphrase vault with KEYGATE_PASSPHRASE unset is an error, not a new key', async () => {
    const home = await tempHome();
    await (
      await openVault({ home, env: { KEYGATE_KEY_BACKEND: 'passphrase', KEYGATE_PASSPHRASE: 'pw' } })
    ).write(sampleRecord('discord', 'default'));
    const keychain = memoryKeychain();
    const vault = await openVault({ home, env: {}, keychain });
    await expect(vault.write(sampleRecord('discord', 'other'))).rejects.toThrow(/KEYGATE_PASSPHRASE, which is not set/);
    expect(keychain.calls).toBe(0);
    await expect(fs.stat(path.join(home, 'vault/master.key'))).rejects.toThrow();
  });
});

describe('keychain fallback', () => {
  it('falls back to a key file within the timeout when the keychain hangs, and says so once', async () => {
    const home = await tempHome();
    const out = collect();
    const vault = await openVault({ home, env: {}, keychain: hangingKeychain(), stderr: out.stderr });
    const started = Date.now();
    await vault.write(sampleRecord('discord', 'default'));
    expect(Date.now() - started).toBeLessThan(3_500);
    await vault.write(sampleRecord('discord', 'other'));
    expect(await vault.backend()).toBe('keyfile');
    expect(out.lines).toEqual([
      `keygate: OS keychain unavailable (no answer within 3 s); using key file ${path.join(home, 'vault/master.key')} (0600)\n`,
    ]);
    // Later runs use the recorded backend without asking the keychain again or announcing anything.
    const later = collect();
    const keychain = memoryKeychain();
    const again = await openVault({ home, env: {}, keychain, stderr: later.stderr });
    expect((await again.read('discord', 'default'))?.status).toBe('connected');
    expect(keychain.calls).toBe(0);
    expect(later.lines).toEqual([]);
  });

  it('falls back to KEYGATE_PASSPHRASE when it is set', async () => {
    const home = await tempHome();
    const out = collect();
    const vault = await openVault({ home, env: { KEYGATE_PASSPHRASE: 'pw' }, keychain: null, stderr: out.stderr });
    await vault.write(sampleRecord('discord', 'default'));
    expect(await vault.backend()).toBe('passphrase');
    expect(out.lines).toEqual(['keygate: OS keychain unavailable (disabled); using KEYGATE_PASSPHRASE\n']);
  });

  it('a keychain that throws falls back with its reason', async () => {
    const failing: Keychain = {
      getPassword: () => Promise.reject(new Error('Cannot autolaunch D-Bus without X11 $DISPLAY')),
      setPassword: () => Promise.reject(new Error('unused')),
      deletePassword: () => Promise.reject(new Error('unused')),
    };
    const out = collect();
    const vault = await openVault({ home: await tempHome(), env: {}, keychain: failing, stderr: out.stderr });
    expect(await vault.backend()).toBe('keyfile');
    expect(out.lines[0]).toMatch(
      /^keygate: OS keychain unavailable \(Cannot autolaunch D-Bus without X11 \$DISPLAY\); using key file .*master\.key \(0600\)\n$/,
    );
  });
});

describe('a recorded backend is never silently switched', () => {
  it('recorded keychain, keychain now unavailable: error telling the user to unlock it', async () => {
    const home = await tempHome();
    const keychain = memoryKeychain();
    await (await openVault({ home, env: {}, keychain })).write(sampleRecord('discord', 'default'));
    const out = collect();
    const vault = await openVault({
      home,
      env: { KEYGATE_PASSPHRASE: 'pw' },
      keychain: hangingKeychain(),
      keychainTimeoutMs: 200,
      stderr: out.stderr,
    });
    const err = (await vault.read('discord', 'default').catch((e: unknown) => e)) as VaultError;
    expect(err).toBeInstanceOf(VaultError);
    expect(err.message).toBe("OS keychain unavailable (no answer within 0.2 s); this vault's master key is stored there");
    expect(err.hint).toMatch(/unlock the OS keychain/);
    expect(out.lines).toEqual([]);
    await expect(fs.stat(path.join(home, 'vault/master.key'))).rejects.toThrow();
    expect((await vault.peek('discord', 'default'))?.status).toBe('connected');
  });

  it('recorded keychain, entry gone: error naming the entry', async () => {
    const home = await tempHome();
    const keychain = memoryKeychain();
    await (await openVault({ home, env: {}, keychain })).write(sampleRecord('discord', 'default'));
    keychain.entries.clear();
    await expect((await openVault({ home, env: {}, keychain })).read('discord', 'default')).rejects.toThrow(
      /master key is missing from the OS keychain \(service keygate, account vault:[0-9a-f]{32}\)/,
    );
  });

  it('KEYGATE_KEY_BACKEND naming another backend than the recorded one is an error', async () => {
    const home = await tempHome();
    await (await openVault({ home, env: { KEYGATE_KEY_BACKEND: 'keyfile' } })).write(sampleRecord('discord', 'default'));
    const vault = await openVault({ home, env: { KEYGATE_KEY_BACKEND: 'passphrase', KEYGATE_PASSPHRASE: 'pw' } });
    await expect(vault.backend()).rejects.toThrow(/KEYGATE_KEY_BACKEND=passphrase, but this vault's master key is in the key file/);
    await expect(vault.read('discord', 'default')).rejects.toThrow(/KEYGATE_KEY_BACKEND=passphrase/);
    await expect(openVault({ home, env: { KEYGATE_KEY_BACKEND: 'tpm' } }).then((v) => v.backend())).rejects.toThrow(
      /must be keychain, passphrase or keyfile/,
    );
  });

  it('forced keychain that is unavailable is an error, not a fallback', async () => {
    const out = collect();
    const vault = await openVault({ home: await tempHome(), env: { KEYGATE_KEY_BACKEND: 'keychain' }, keychain: null, stderr: out.stderr });
    await expect(vault.backend()).rejects.toThrow(/OS keychain unavailable \(disabled\) and KEYGATE_KEY_BACKEND=keychain/);
    expect(out.lines).toEqual([]);
  });

  it('a replaced key file is reported as not belonging to the vault', async () => {
    const home = await tempHome();
    await (await openVault({ home, env: { KEYGATE_KEY_BACKEND: 'keyfile' } })).write(sampleRecord('discord', 'default'));
    await fs.writeFile(path.join(home, 'vault/master.key'), Buffer.alloc(32, 7));
    await expect((await openVault({ home, env: {} })).read('discord', 'default')).rejects.toThrow(/does not belong to this vault/);
    await fs.rm(path.join(home, 'vault/master.key'));
    await expect((await openVault({ home, env: {} })).read('discord', 'default')).rejects.toThrow(/master key file .* is missing/);
  });
});

describe('first use', () => {
  it('concurrent first uses agree on one key', async () => {
    const home = await tempHome();
    const keychain = memoryKeychain();
    const vaults = await Promise.all(Array.from({ length: 5 }, () => openVault({ home, env: {}, keychain })));
    await Promise.all(vaults.map((v, i) => v.write(sampleRecord('discord', `c${i}`))));
    expect(keychain.entries.size).toBe(1);
    const reader = await openVault({ home, env: {}, keychain });
    expect((await reader.list()).every((e) => e.record)).toBe(true);
  });

  it('keeps a keychain entry that survived a lost vault.json instead of replacing it', async () => {
    const home = await tempHome();
    const keychain = memoryKeychain();
    await (await openVault({ home, env: {}, keychain })).write(sampleRecord('discord', 'default'));
    await fs.rm(path.join(home, 'vault/vault.json'));
    expect((await (await openVault({ home, env: {}, keychain })).read('discord', 'default'))?.status).toBe('connected');
  });

  it('a vault.json from a newer keygate is reported and left alone', async () => {
    const home = await tempHome();
    await fs.mkdir(path.join(home, 'vault'), { recursive: true });
    const text = JSON.stringify({ format: 2, backend: 'quantum' });
    await fs.writeFile(path.join(home, 'vault/vault.json'), text);
    const vault = await openVault({ home, env: { KEYGATE_KEY_BACKEND: 'keyfile' } });
    await expect(vault.write(sampleRecord('discord', 'default'))).rejects.toThrow(
      /vault\.json was written by a newer keygate \(format 2; this version reads format 1\)/,
    );
    expect(await fs.readFile(path.join(home, 'vault/vault.json'), 'utf8')).toBe(text);
  });
});
