// The PostgreSQL store's schema and master key: created and upgraded in place, a newer schema
// refused untouched, keys from a passphrase or a key file, never the keychain.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VaultError } from '../../src/errors.js';
import { openStore } from '../../src/store/index.js';
import { Database } from '../../src/store/postgres/db.js';
import { ensureSchema, SCHEMA_VERSION } from '../../src/store/postgres/schema.js';
import { redactUrl } from '../../src/store/postgres/url.js';
import { freshDatabase, sharedPostgres, sql } from '../helpers/postgres.js';
import { removeTempDirs, sampleRecord, tempHome } from '../vault/helpers.js';

let adminUrl: string;
beforeAll(async () => {
  adminUrl = await sharedPostgres();
});
afterAll(removeTempDirs);

const env = { KEYGATE_PASSPHRASE: 'schema' };

describe('schema', () => {
  it('is created on first use, with one version row per migration', async () => {
    const url = await freshDatabase(adminUrl);
    const store = await openStore({ store: url, env, home: await tempHome() });
    expect(await store.names()).toEqual([]);
    await store.close();
    const versions = await sql<{ version: number }>(url, 'SELECT version FROM keygate_schema_version ORDER BY version');
    expect(versions.map((v) => v.version)).toEqual(Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
  });

  it('is upgraded in place from an older version, keeping the records', async () => {
    const url = await freshDatabase(adminUrl);
    const db = new Database(url, redactUrl(url));
    await ensureSchema(db, 1); // what an older keygate left
    await db.close();
    expect(
      await sql(
        url,
        `SELECT column_name FROM information_schema.columns WHERE table_name = 'keygate_records' AND column_name = 'updated_by'`,
      ),
    ).toEqual([]);
    const store = await openStore({ store: url, env, home: await tempHome() });
    await store.write(sampleRecord('discord', 'default'));
    expect((await store.read('discord', 'default'))?.tokens.access_token).toBe('at-discord-default-SECRETVALUE');
    await store.close();
    expect((await sql<{ updated_by: string }>(url, 'SELECT updated_by FROM keygate_records'))[0]?.updated_by).toBeTruthy();
  });

  it('8 hosts opening an empty database at once apply each migration once', async () => {
    const url = await freshDatabase(adminUrl);
    const stores = await Promise.all(Array.from({ length: 8 }, async () => openStore({ store: url, env, home: await tempHome() })));
    await Promise.all(stores.map((s) => s.names()));
    await Promise.all(stores.map((s) => s.close()));
    expect((await sql(url, 'SELECT version FROM keygate_schema_version')).length).toBe(SCHEMA_VERSION);
  });

  it('a database from a newer keygate is refused for reads and writes, and left untouched', async () => {
    const url = await freshDatabase(adminUrl);
    const first = await openStore({ store: url, env, home: await tempHome() });
    await first.write(sampleRecord('discord', 'default'));
    await first.close();
    await sql(url, "INSERT INTO keygate_schema_version (version, why) VALUES (99, 'from the future')");
    const before = await sql(url, 'SELECT doc FROM keygate_records');
    const store = await openStore({ store: url, env, home: await tempHome() });
    const newer =
      /was set up by a newer keygate \(schema 99; this version knows \d+\) — upgrade keygate on this host; the database was left untouched$/;
    for (const attempt of [
      () => store.read('discord', 'default'),
      () => store.list(),
      () => store.write(sampleRecord('discord', 'other')),
      () => store.delete('discord', 'default'),
    ]) {
      const err = await attempt().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(VaultError);
      expect(`${(err as Error).message} — ${(err as VaultError).hint}`).toMatch(newer);
    }
    await store.close();
    expect(await sql(url, 'SELECT doc FROM keygate_records')).toEqual(before);
  });

  it('a record written by a newer keygate is refused and never replaced', async () => {
    const url = await freshDatabase(adminUrl);
    const store = await openStore({ store: url, env, home: await tempHome() });
    await store.write(sampleRecord('discord', 'default'));
    await sql(url, `UPDATE keygate_records SET doc = replace(doc, '"format": 1', '"format": 2')`);
    await expect(store.read('discord', 'default')).rejects.toThrow(/written by a newer keygate \(format 2/);
    await expect(store.write(sampleRecord('discord', 'default'))).rejects.toThrow(/newer keygate/);
    await store.close();
  });
});

describe('master key of a shared store', () => {
  it('a key file is created (0600, base64) for a new store, and other hosts need a copy of it', async () => {
    const url = await freshDatabase(adminUrl);
    const dir = await tempHome();
    const keyFile = path.join(dir, 'store.key');
    const store = await openStore({ store: url, env: { KEYGATE_KEY_FILE: keyFile }, home: dir });
    await store.write(sampleRecord('discord', 'default'));
    expect(await store.backend()).toBe('keyfile');
    await store.close();
    expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(Buffer.from(fs.readFileSync(keyFile, 'utf8').trim(), 'base64')).toHaveLength(32);

    const copy = path.join(await tempHome(), 'copy.key');
    fs.copyFileSync(keyFile, copy);
    fs.chmodSync(copy, 0o600);
    const other = await openStore({ store: url, env: { KEYGATE_KEY_FILE: copy }, home: await tempHome() });
    expect((await other.read('discord', 'default'))?.tokens.refresh_token).toBe('rt-discord-default-SECRETVALUE');
    await other.close();

    const missing = await openStore({ store: url, env: { KEYGATE_KEY_FILE: path.join(dir, 'nope.key') }, home: dir });
    await expect(missing.read('discord', 'default')).rejects.toThrow(/key file .*nope\.key does not exist/);
    await missing.close();
    const wrongFile = path.join(dir, 'wrong.key');
    fs.writeFileSync(wrongFile, Buffer.alloc(32, 7), { mode: 0o600 });
    const wrong = await openStore({ store: url, env: { KEYGATE_KEY_FILE: wrongFile }, home: dir });
    await expect(wrong.checkKey()).rejects.toThrow(/does not hold the master key of the shared store/);
    await wrong.close();
    fs.chmodSync(copy, 0o644);
    const open = await openStore({ store: url, env: { KEYGATE_KEY_FILE: copy }, home: dir });
    await expect(open.checkKey()).rejects.toThrow(/can be read by other users \(mode 644\)/);
    await open.close();
  });

  it('needs KEYGATE_PASSPHRASE or KEYGATE_KEY_FILE, and refuses the keychain', async () => {
    const url = await freshDatabase(adminUrl);
    const none = await openStore({ store: url, env: {}, home: await tempHome() });
    await expect(none.write(sampleRecord('discord', 'default'))).rejects.toThrow(/neither KEYGATE_PASSPHRASE nor KEYGATE_KEY_FILE is set/);
    await none.close();
    const keychain = await openStore({
      store: url,
      env: { KEYGATE_KEY_BACKEND: 'keychain', KEYGATE_PASSPHRASE: 'x' },
      home: await tempHome(),
    });
    await expect(keychain.write(sampleRecord('discord', 'default'))).rejects.toThrow(/cannot key a shared store/);
    await keychain.close();
    // Nothing was recorded by the failed attempts: the first working host sets the key.
    expect(await sql(url, 'SELECT count(*)::int AS n FROM keygate_config')).toEqual([{ n: 0 }]);
  });
});
