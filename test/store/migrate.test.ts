// `keygate store migrate`: every connection moves between the file vault and PostgreSQL without a new
// login, and is never live in both stores with diverging refresh tokens, even when a refresh races
// the move or the move is interrupted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreUnavailableError, VaultError } from '../../src/errors.js';
import { openStore, openUnguarded, type Store } from '../../src/store/index.js';
import { migrate } from '../../src/store/migrate.js';
import { UNCHANGED, type ConnectionRecord } from '../../src/vault/index.js';
import { runCli, tempHome } from '../helpers/cli.js';
import { freshDatabase, sharedPostgres } from '../helpers/postgres.js';
import { startSession, type Session } from '../helpers/session.js';
import { sampleRecord } from '../vault/helpers.js';

let session: Session;
let adminUrl: string;
beforeAll(async () => {
  session = await startSession();
  adminUrl = await sharedPostgres();
});
afterAll(() => session.close());

const quiet = () => undefined;
const filesEnv = { KEYGATE_KEY_BACKEND: 'keyfile' };
const pgEnv = { KEYGATE_PASSPHRASE: 'migrate me' };

async function stores(): Promise<{ files: Store; pg: Store; url: string; home: string }> {
  const home = tempHome();
  const url = await freshDatabase(adminUrl);
  return {
    home,
    url,
    files: await openUnguarded({ home, env: filesEnv, stderr: quiet, keychain: null }),
    pg: await openUnguarded({ home, store: url, env: pgEnv }),
  };
}

/** A store whose `update` fails the `nth` time (1-based) as if the database had gone away. */
function failingUpdate(store: Store, nth: number): Store {
  let calls = 0;
  return {
    ...store,
    kind: store.kind,
    location: store.location,
    home: store.home,
    backend: () => store.backend(),
    checkKey: () => store.checkKey(),
    close: () => store.close(),
    peek: (p, c) => store.peek(p, c),
    read: (p, c) => store.read(p, c),
    write: (r) => store.write(r),
    delete: (p, c) => store.delete(p, c),
    names: () => store.names(),
    list: () => store.list(),
    readClient: (p) => store.readClient(p),
    writeClient: (p, cr) => store.writeClient(p, cr),
    deleteClient: (p) => store.deleteClient(p),
    readSecret: (n) => store.readSecret(n),
    writeSecret: (n, d) => store.writeSecret(n, d),
    update(p, c, fn) {
      if (++calls === nth) return Promise.reject(new StoreUnavailableError('cannot reach the shared store (simulated)'));
      return store.update(p, c, fn);
    },
  };
}

const rotate = (record: ConnectionRecord, n: number): ConnectionRecord => ({
  ...record,
  tokens: { ...record.tokens, access_token: `at-${n}`, refresh_token: `rt-${n}` },
});

describe('store migrate through the CLI', () => {
  it('files → postgres → files: no new login, same tokens, usable on the other side, gone from the source', async () => {
    const home = tempHome();
    const url = await freshDatabase(adminUrl);
    const filesHost = session.envFor(home);
    const pgHost = session.envFor(home, { KEYGATE_STORE: url, KEYGATE_PASSPHRASE: 'fleet', KEYGATE_KEY_BACKEND: undefined });
    expect((await session.login(home)).code).toBe(0);
    expect((await session.login(home, ['--connection', 'work'])).code).toBe(0);
    const before = (await runCli(['get', 'discord', '--field', 'refresh_token', '--reveal'], { env: filesHost })).stdout;
    const authorizations = session.emulator.controls.counters();

    // The destination's key comes from KEYGATE_PASSPHRASE; the source keeps its own (key file).
    const there = await runCli(['store', 'migrate', '--to', url], {
      env: { ...filesHost, KEYGATE_PASSPHRASE: 'fleet', KEYGATE_KEY_BACKEND: undefined },
    });
    expect(there.code, there.stderr).toBe(0);
    expect(there.stdout).toMatch(
      /^Moved discord\/default\nMoved discord\/work\n2 connections moved from \/\S+ to postgres:\/\/postgres@127\.0\.0\.1:\d+\/\w+\. From now on, set KEYGATE_STORE to/,
    );
    expect((await runCli(['get', 'discord', '--field', 'status'], { env: filesHost })).stdout).toBe('not_connected\n');
    expect((await runCli(['get', 'discord', '--field', 'status'], { env: pgHost })).stdout).toBe('connected\n');
    expect((await runCli(['get', 'discord', '--field', 'refresh_token', '--reveal'], { env: pgHost })).stdout).toBe(before);
    const run = await runCli(
      [
        'run',
        '--',
        process.execPath,
        '--input-type=module',
        '-e',
        "const r = await fetch('https://discord.com/api/v10/users/@me'); console.log(r.status)",
      ],
      { env: pgHost, timeoutMs: 30_000 },
    );
    expect(run.stdout.trim(), run.stderr).toBe('200');

    const back = await runCli(['store', 'migrate', '--to', 'files'], { env: pgHost });
    expect(back.code, back.stderr).toBe(0);
    expect(back.stdout).toContain('2 connections moved from postgres://');
    expect(back.stdout).toContain('unset KEYGATE_STORE');
    expect((await runCli(['list', '--json'], { env: pgHost })).stdout).toContain('"connections": []');
    expect((await runCli(['get', 'discord', '--connection', 'work', '--field', 'status'], { env: filesHost })).stdout).toBe('connected\n');
    expect((await runCli(['get', 'discord', '--field', 'refresh_token', '--reveal'], { env: filesHost })).stdout).toBe(before);
    const after = session.emulator.controls.counters();
    expect(after.refreshes).toBe(authorizations.refreshes);
    expect(after.invalidGrants).toBe(authorizations.invalidGrants);
  }, 120_000);

  it('refuses a destination that is the store in use, or not a store', async () => {
    const env = session.envFor(tempHome());
    const same = await runCli(['store', 'migrate', '--to', 'files'], { env });
    expect(same.code).toBe(2);
    expect(same.stderr).toMatch(/^keygate: the store in use is already \//);
    const bad = await runCli(['store', 'migrate', '--to', 'redis://x'], { env });
    expect(bad.code).toBe(2);
    expect((await runCli(['store', 'migrate'], { env })).code).toBe(2);
  });
});

describe('store migrate, interrupted and raced', () => {
  it('interrupted after the freeze: the source is frozen for every command, and running it again finishes the move', async () => {
    const { files, pg } = await stores();
    await files.write(sampleRecord('discord', 'default'));
    const first = await migrate(files, failingUpdate(pg, 1));
    expect(first.moved).toEqual([]);
    expect(first.failed.map((f) => f.connection)).toEqual(['discord/default']);
    // Frozen: a command (through the guard) can neither read nor refresh it.
    const guarded = await openStore({ home: files.home, env: filesEnv, stderr: quiet, keychain: null });
    await expect(guarded.read('discord', 'default')).rejects.toThrow(
      /discord\/default is being moved to postgres:\/\/.*and is frozen in this store/,
    );
    await expect(guarded.update('discord', 'default', (c) => rotate(c!, 1))).rejects.toThrow(VaultError);
    await expect(guarded.peek('discord', 'default')).rejects.toThrow(VaultError);
    expect((await guarded.list())[0]?.error?.message).toMatch(/is being moved/);
    expect(await pg.read('discord', 'default')).toBeUndefined();

    const second = await migrate(files, pg);
    expect(second.moved).toEqual(['discord/default']);
    expect(await files.read('discord', 'default')).toBeUndefined();
    expect((await pg.read('discord', 'default'))?.tokens.refresh_token).toBe('rt-discord-default-SECRETVALUE');
    await pg.close();
  });

  it('interrupted after the copy: a refresh made in the destination since is kept, the frozen source is dropped', async () => {
    const { files, pg } = await stores();
    await files.write(sampleRecord('discord', 'default'));
    // update #1 freezes, #2 is the copy (in the destination), #3 the removal fails.
    const first = await migrate(failingUpdate(files, 2), pg);
    expect(first.failed).toHaveLength(1);
    expect((await files.read('discord', 'default'))?.moving).toBeTruthy();
    await pg.update('discord', 'default', (c) => rotate(c!, 7)); // a host refreshed in the new store
    const second = await migrate(files, pg);
    expect(second.moved).toEqual(['discord/default']);
    expect(await files.read('discord', 'default')).toBeUndefined();
    expect((await pg.read('discord', 'default'))?.tokens.refresh_token).toBe('rt-7');
    await pg.close();
  });

  it('a different connection of the same name in the destination: refused, destination untouched', async () => {
    const { files, pg } = await stores();
    await files.write(sampleRecord('discord', 'default'));
    await pg.write(rotate(sampleRecord('discord', 'default'), 99));
    const report = await migrate(files, pg);
    expect(report.failed[0]?.error.message).toMatch(/already exists in postgres:\/\/.* with other tokens; it was left frozen in/);
    expect((await pg.read('discord', 'default'))?.tokens.refresh_token).toBe('rt-99');
    await pg.close();
  });

  it('refreshes racing the move: the destination holds the last refresh the source accepted, and none after', async () => {
    const { files, pg, home } = await stores();
    await files.write(rotate(sampleRecord('discord', 'default'), 0));
    // Another process refreshing in a loop through the guarded store, as `run` does.
    const other = await openStore({ home, env: filesEnv, stderr: quiet, keychain: null });
    let accepted = 'rt-0';
    let stop = false;
    const refresher = (async () => {
      for (let n = 1; !stop; n++) {
        try {
          const stored = await other.update('discord', 'default', async (c) => {
            if (!c) return UNCHANGED; // moved away: nothing to refresh here
            await new Promise((resolve) => setTimeout(resolve, 5)); // a refresh's network call
            return rotate(c, n);
          });
          if (!stored) break;
          accepted = stored.tokens.refresh_token!;
        } catch (err) {
          if (!(err instanceof VaultError) || !/being moved/.test(err.message)) throw err;
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const report = await migrate(files, pg);
    expect(report.moved).toEqual(['discord/default']);
    await new Promise((resolve) => setTimeout(resolve, 100));
    stop = true;
    await refresher;
    expect(accepted).not.toBe('rt-0'); // the race was real: refreshes landed before the freeze
    expect((await pg.read('discord', 'default'))?.tokens.refresh_token).toBe(accepted);
    expect(await files.read('discord', 'default')).toBeUndefined();
    await pg.close();
  });
});
