// The store contract: what every store (file vault, PostgreSQL) must do, as one suite each store's
// test file runs against its own harness. A store that passes it can back every command.
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { VaultError } from '../../src/errors.js';
import type { Store } from '../../src/store/index.js';
import { UNCHANGED, type ConnectionRecord } from '../../src/vault/index.js';
import { sampleRecord } from '../vault/helpers.js';

export interface StoreHarness {
  /** A fresh, empty store; every call in one test returns a view of the same store (like another process). */
  fresh(): Promise<{ open: (env?: NodeJS.ProcessEnv) => Promise<Store>; wrongKey: () => Promise<Store>; raw: () => Promise<string> }>;
}

const SECRETS = ['SECRETVALUE', 'CLIENTSECRETVALUE', 'CAKEYSECRETVALUE'];

export function storeContract(name: string, harness: StoreHarness): void {
  describe(`store contract: ${name}`, () => {
    it('round-trips connections, client credentials and named secrets', async () => {
      const { open } = await harness.fresh();
      const store = await open();
      try {
        const record = sampleRecord('discord', 'work');
        expect(await store.read('discord', 'work')).toBeUndefined();
        expect(await store.peek('discord', 'work')).toBeUndefined();
        await store.write(record);
        expect(await store.read('discord', 'work')).toEqual(record);
        await store.writeClient('discord', { client_id: 'cid-123', client_secret: 'CLIENTSECRETVALUE' });
        expect(await store.readClient('discord')).toEqual({ client_id: 'cid-123', client_secret: 'CLIENTSECRETVALUE' });
        expect(await store.readClient('other')).toBeUndefined();
        await store.writeSecret('proxy-ca', Buffer.from('CAKEYSECRETVALUE'));
        expect((await store.readSecret('proxy-ca'))?.toString()).toBe('CAKEYSECRETVALUE');
        expect(await store.readSecret('missing')).toBeUndefined();
        // Another process sees the same thing.
        const other = await open();
        expect(await other.read('discord', 'work')).toEqual(record);
        await other.close();
        expect(await store.deleteClient('discord')).toBe(true);
        expect(await store.deleteClient('discord')).toBe(false);
        expect(await store.readClient('discord')).toBeUndefined();
      } finally {
        await store.close();
      }
    });

    it('peek, names and list show metadata without secrets; secrets stay out of inspect()', async () => {
      const { open } = await harness.fresh();
      const store = await open();
      try {
        await store.write(sampleRecord('discord', 'b'));
        await store.write(sampleRecord('discord', 'a'));
        await store.write(sampleRecord('acme', 'default'));
        const meta = await store.peek('discord', 'a');
        expect(meta?.status).toBe('connected');
        expect(meta?.tokens.has_refresh_token).toBe(true);
        expect(JSON.stringify(meta)).not.toContain('SECRETVALUE');
        expect(await store.names()).toEqual([
          { provider: 'acme', connection: 'default' },
          { provider: 'discord', connection: 'a' },
          { provider: 'discord', connection: 'b' },
        ]);
        const listed = await store.list();
        expect(listed.map((e) => `${e.provider}/${e.connection}`)).toEqual(['acme/default', 'discord/a', 'discord/b']);
        expect(listed.every((e) => e.record?.tokens.access_token.endsWith('SECRETVALUE'))).toBe(true);
        expect(inspect(listed)).not.toContain('SECRETVALUE');
      } finally {
        await store.close();
      }
    });

    it('update re-reads, replaces, keeps (UNCHANGED) and deletes', async () => {
      const { open } = await harness.fresh();
      const store = await open();
      try {
        expect(await store.update('discord', 'x', () => undefined)).toBeUndefined();
        const created = await store.update('discord', 'x', (current) => (current ? UNCHANGED : sampleRecord('discord', 'x')));
        expect(created?.tokens.access_token).toBe('at-discord-x-SECRETVALUE');
        const kept = await store.update('discord', 'x', () => UNCHANGED);
        expect(kept).toEqual(created);
        const changed = await store.update('discord', 'x', (current) => ({ ...current!, status: 'revoked', status_reason: 'test' }));
        expect(changed?.status).toBe('revoked');
        expect((await store.read('discord', 'x'))?.status_reason).toBe('test');
        await expect(store.update('discord', 'x', (current) => ({ ...current!, connection: 'y' }))).rejects.toThrow(VaultError);
        expect(await store.update('discord', 'x', () => undefined)).toBeUndefined();
        expect(await store.read('discord', 'x')).toBeUndefined();
        await store.write(sampleRecord('discord', 'x'));
        expect(await store.delete('discord', 'x')).toBe(true);
        expect(await store.delete('discord', 'x')).toBe(false);
      } finally {
        await store.close();
      }
    });

    it('loses no update when 4 store objects × 10 updates race on one connection', async () => {
      const { open } = await harness.fresh();
      const stores = await Promise.all([open(), open(), open(), open()]);
      try {
        await stores[0]!.write(withToken(sampleRecord('discord', 'race'), '0'));
        await Promise.all(
          stores.map(async (store) => {
            for (let i = 0; i < 10; i++) {
              await store.update('discord', 'race', async (current) => {
                await new Promise((resolve) => setTimeout(resolve, 1)); // widen the window a lost update needs
                return withToken(current!, String(Number(current!.tokens.access_token) + 1));
              });
            }
          }),
        );
        expect((await stores[0]!.read('discord', 'race'))?.tokens.access_token).toBe('40');
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    });

    it('holds one update at a time per connection, even while the callback awaits', async () => {
      const { open } = await harness.fresh();
      const [a, b] = await Promise.all([open(), open()]);
      try {
        await a.write(sampleRecord('discord', 'solo'));
        let inside = 0;
        let most = 0;
        const slow = (store: Store) =>
          store.update('discord', 'solo', async (): Promise<typeof UNCHANGED> => {
            most = Math.max(most, ++inside);
            await new Promise((resolve) => setTimeout(resolve, 30));
            inside--;
            return UNCHANGED;
          });
        await Promise.all([slow(a), slow(b), slow(a), slow(b)]);
        expect(most).toBe(1);
        // Different connections do not wait for each other.
        await a.write(sampleRecord('discord', 'other'));
        await a.update('discord', 'solo', async (): Promise<typeof UNCHANGED> => {
          await b.update('discord', 'other', (c) => ({ ...c!, status_reason: 'updated while solo was locked' }));
          return UNCHANGED;
        });
        expect((await b.read('discord', 'other'))?.status_reason).toBe('updated while solo was locked');
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    it('keeps every secret encrypted at rest', async () => {
      const { open, raw } = await harness.fresh();
      const store = await open();
      try {
        await store.write(sampleRecord('discord', 'work'));
        await store.writeClient('discord', { client_id: 'cid-123', client_secret: 'CLIENTSECRETVALUE' });
        await store.writeSecret('proxy-ca', Buffer.from('CAKEYSECRETVALUE'));
        const dump = await raw();
        expect(dump).toContain('cid-123'); // the dump is real: clear metadata is in it
        for (const secret of SECRETS) expect(dump).not.toContain(secret);
      } finally {
        await store.close();
      }
    });

    it('a wrong master key fails clearly at checkKey, on read and before any write', async () => {
      const { open, wrongKey, raw } = await harness.fresh();
      const store = await open();
      await store.write(sampleRecord('discord', 'work'));
      await store.checkKey();
      await store.close();
      const before = await raw();
      const wrong = await wrongKey();
      try {
        await expect(wrong.checkKey()).rejects.toThrow(VaultError);
        await expect(wrong.read('discord', 'work')).rejects.toThrow(/wrong|does not belong|KEYGATE_PASSPHRASE/i);
        await expect(wrong.write(sampleRecord('discord', 'new'))).rejects.toThrow(VaultError);
        await expect(wrong.update('discord', 'work', (c) => c)).rejects.toThrow(VaultError);
        await expect(wrong.writeSecret('x', Buffer.from('y'))).rejects.toThrow(VaultError);
      } finally {
        await wrong.close();
      }
      expect(await raw()).toBe(before);
    });
  });
}

function withToken(record: ConnectionRecord, accessToken: string): ConnectionRecord {
  return { ...record, tokens: { ...record.tokens, access_token: accessToken } };
}
