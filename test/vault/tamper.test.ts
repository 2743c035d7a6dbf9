import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatError, VaultError } from '../../src/errors.js';
import { openVault, type Vault } from '../../src/vault/index.js';
import { removeTempDirs, sampleRecord, tempHome } from './helpers.js';

afterAll(removeTempDirs);

async function setup(): Promise<{ home: string; vault: Vault; file: (p: string, c: string) => string }> {
  const home = await tempHome();
  const vault = await openVault({ home, env: { KEYGATE_KEY_BACKEND: 'keyfile' } });
  await vault.write(sampleRecord('discord', 'work'));
  await vault.write(sampleRecord('discord', 'personal'));
  return { home, vault, file: (p, c) => path.join(home, 'vault/connections', p, `${c}.json`) };
}

async function failure(promise: Promise<unknown>): Promise<VaultError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(VaultError);
  const line = formatError(err);
  expect(line).not.toMatch(/SECRETVALUE/);
  return err as VaultError;
}

describe('tampering is detected', () => {
  it('a record file copied over another connection is refused (AAD binds identity)', async () => {
    const { vault, file } = await setup();
    await fs.copyFile(file('discord', 'personal'), file('discord', 'work'));
    const err = await failure(vault.read('discord', 'work'));
    expect(err.message).toMatch(/^record discord\/work failed authentication \(tampered or wrong key\)/);
    expect(err.message).toContain(file('discord', 'work'));
    await failure(vault.peek('discord', 'work'));
    expect((await vault.read('discord', 'personal'))?.connection).toBe('personal');
  });

  it('a copied record with its clear identity edited to match still fails to decrypt', async () => {
    const { vault, file } = await setup();
    const data = JSON.parse(await fs.readFile(file('discord', 'personal'), 'utf8'));
    data.connection = 'work';
    data.meta.connection = 'work';
    await fs.writeFile(file('discord', 'work'), JSON.stringify(data));
    const err = await failure(vault.read('discord', 'work'));
    expect(err.message).toBe(`record discord/work failed authentication (tampered or wrong key) in ${file('discord', 'work')}`);
    expect(err.hint).toMatch(/keygate login discord --connection work --force/);
  });

  it('edited clear metadata is detected on the next full read', async () => {
    const { vault, file } = await setup();
    const data = JSON.parse(await fs.readFile(file('discord', 'work'), 'utf8'));
    data.meta.tokens.scopes.push('admin');
    await fs.writeFile(file('discord', 'work'), JSON.stringify(data));
    await failure(vault.read('discord', 'work'));
  });

  it('a flipped byte is reported; other connections stay usable; list shows the entry with an error', async () => {
    const { vault, file, home } = await setup();
    const bytes = await fs.readFile(file('discord', 'work'));
    const text = bytes.toString('utf8');
    // Flip one bit of one base64 character inside the ciphertext, keeping it valid base64.
    const at = text.indexOf('"ciphertext": "') + '"ciphertext": "'.length + 5;
    // Replace it with the next character of the base64 alphabet: always valid base64, always different.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const flipped = alphabet[(alphabet.indexOf(text[at]!) + 1) % alphabet.length]!;
    expect(alphabet.indexOf(text[at]!)).toBeGreaterThanOrEqual(0);
    await fs.writeFile(file('discord', 'work'), text.slice(0, at) + flipped + text.slice(at + 1));
    const err = await failure(vault.read('discord', 'work'));
    expect(err.message).toMatch(/record discord\/work failed authentication \(tampered or wrong key\)/);
    expect((await vault.read('discord', 'personal'))?.tokens.access_token).toBe('at-discord-personal-SECRETVALUE');
    await failure(vault.update('discord', 'work', (r) => r));

    const listed = await (await openVault({ home, env: {} })).list();
    expect(listed.map((e) => [e.connection, e.error?.message.slice(0, 41)])).toEqual([
      ['personal', undefined],
      ['work', 'record discord/work failed authentication'],
    ]);
    // The explicit ways out still work: logging in again over it, or deleting it.
    await vault.write(sampleRecord('discord', 'work'));
    expect((await vault.read('discord', 'work'))?.status).toBe('connected');
  });

  it('every single-byte change anywhere in the file is caught', async () => {
    const { vault, file } = await setup();
    const original = await fs.readFile(file('discord', 'work'));
    let caught = 0;
    for (let i = 0; i < original.length; i += 7) {
      const copy = Buffer.from(original);
      copy[i] = copy[i]! ^ 0x01;
      await fs.writeFile(file('discord', 'work'), copy);
      const result = await vault.read('discord', 'work').then(
        (r) => r,
        (e: unknown) => e,
      );
      if (result instanceof VaultError) caught++;
      // A flip the JSON parser normalises away (e.g. whitespace) must yield the original record.
      else expect(result).toEqual(sampleRecord('discord', 'work'));
    }
    expect(caught).toBeGreaterThan(original.length / 7 - 20);
  });
});

describe('newer format', () => {
  it('a record from a newer keygate is reported, never overwritten or deleted', async () => {
    const { vault, file, home } = await setup();
    const data = JSON.parse(await fs.readFile(file('discord', 'work'), 'utf8'));
    data.format = 2;
    const text = JSON.stringify(data);
    await fs.writeFile(file('discord', 'work'), text);
    const message = `${file('discord', 'work')} was written by a newer keygate (format 2; this version reads format 1)`;
    expect((await failure(vault.read('discord', 'work'))).message).toBe(message);
    expect((await failure(vault.peek('discord', 'work'))).hint).toMatch(/upgrade keygate/);
    await failure(vault.write(sampleRecord('discord', 'work')));
    await failure(vault.update('discord', 'work', () => sampleRecord('discord', 'work')));
    await failure(vault.delete('discord', 'work'));
    expect(await fs.readFile(file('discord', 'work'), 'utf8')).toBe(text);
    const listed = await (await openVault({ home, env: {} })).list();
    expect(listed.find((e) => e.connection === 'work')?.error?.message).toBe(message);
  });
});
