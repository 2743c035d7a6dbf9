// The database going away: a crash in the middle of writes never leaves a torn or unreadable record,
// and a running proxy keeps serving cached tokens while it can, without marking anything revoked.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CredentialError, StoreUnavailableError } from '../../src/errors.js';
import { createTokenAccess } from '../../src/lifecycle/index.js';
import { getProvider } from '../../src/provider/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { repoRoot, runCli, tempHome } from '../helpers/cli.js';
import { startSession } from '../helpers/session.js';
import { freshDatabase, startPostgres, type Postgres } from '../helpers/postgres.js';

// This file crashes its server, so it has its own rather than the run's shared one.
let pg: Postgres;
beforeAll(async () => {
  pg = await startPostgres();
}, 90_000);
afterAll(async () => {
  await pg?.stop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function writer(
  url: string,
  stop: string,
  connections: string[],
): { ready: Promise<void>; done: Promise<{ acked: Record<string, number>; failed: number }> } {
  const child = spawn(
    process.execPath,
    [
      path.join(import.meta.dirname, 'fixtures', 'pg-writer.mjs'),
      path.join(repoRoot, 'dist', 'store', 'index.js'),
      JSON.stringify({ url, stop, connections }),
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  const ready = new Promise<void>((resolve) =>
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
      if (stderr.includes('ready')) resolve();
    }),
  );
  const done = new Promise<{ acked: Record<string, number>; failed: number }>((resolve, reject) =>
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(stdout)) : reject(new Error(`writer exited ${code}: ${stderr}`)))),
  );
  return { ready, done };
}

describe('the database crashing', () => {
  it('in the middle of 4 hosts writing: every record opens afterwards, whole, and no acknowledged write is lost', async () => {
    const url = await freshDatabase(pg.adminUrl);
    const stop = path.join(tempHome(), 'stop');
    const connections = ['a', 'b', 'c'];
    const writers = Array.from({ length: 4 }, () => writer(url, stop, connections));
    await Promise.all(writers.map((w) => w.ready));
    await sleep(500);
    await pg.crash(); // every server process aborts at once: crash recovery on the next start
    await sleep(500);
    await pg.start();
    await sleep(1000); // the writers get going again
    fs.writeFileSync(stop, '');
    const results = await Promise.all(writers.map((w) => w.done));
    const failed = results.reduce((sum, r) => sum + r.failed, 0);
    expect(failed).toBeGreaterThan(0); // the crash really hit them

    const store = await openStore({ store: url, env: { KEYGATE_PASSPHRASE: 'crash test' }, home: tempHome() });
    try {
      const listed = await store.list();
      expect(listed.map((e) => e.error?.message)).toEqual([undefined, undefined, undefined]);
      for (const entry of listed) {
        const acked = results.reduce((sum, r) => sum + r.acked[entry.connection], 0);
        const value = Number(entry.record!.tokens.access_token);
        expect(entry.record!.tokens.refresh_token).toBe(entry.record!.tokens.access_token); // not torn
        // Every acknowledged write is there; a write whose commit reached the server just before the
        // crash, but whose acknowledgement did not reach the writer, may be there too.
        expect(value).toBeGreaterThanOrEqual(acked);
        expect(value).toBeLessThanOrEqual(acked + failed);
      }
    } finally {
      await store.close();
    }
  }, 120_000);
});

describe('a running proxy while the database is down', () => {
  let store: Store;
  afterAll(async () => {
    vi.useRealTimers();
    await store?.close();
  });

  it('serves the cached token until it expires (saying so), then fails clearly; nothing is marked revoked', async () => {
    const url = await freshDatabase(pg.adminUrl);
    store = await openStore({ store: url, env: { KEYGATE_PASSPHRASE: 'outage' }, home: tempHome() });
    const provider = await getProvider('discord');
    const issued = Date.now();
    const expires = issued + 60 * 60_000;
    await store.write({
      provider: 'discord',
      connection: 'default',
      tokens: {
        access_token: 'cached-access-token',
        refresh_token: 'refresh-token',
        token_type: 'Bearer',
        expires_at: new Date(expires).toISOString(),
        scopes: ['identify'],
      },
      account: { id: '1', name: 'alice' },
      status: 'connected',
      created_at: new Date(issued).toISOString(),
    });
    const warnings: string[] = [];
    const tokens = createTokenAccess(store, new Map([['discord', provider]]), { warn: (line) => warnings.push(line) });
    expect(await tokens.getToken('discord', 'default')).toBe('cached-access-token'); // cached now

    await pg.crash();
    try {
      // Only the clock is faked; the database is really gone.
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(expires - 60_000); // within the refresh margin: a refresh is due
      expect(await tokens.getToken('discord', 'default')).toBe('cached-access-token');
      expect(await tokens.getToken('discord', 'default')).toBe('cached-access-token');
      expect(warnings).toEqual([
        expect.stringMatching(
          /^keygate: cannot reach the shared store postgres:\/\/postgres@127\.0\.0\.1:\d+\/\w+ \(ECONNREFUSED\); serving discord\/default's cached token until it expires/,
        ),
      ]);
      expect(await tokens.onUnauthorized('discord', 'default', 'cached-access-token')).toBeUndefined();
      expect(warnings[1]).toMatch(/passing a 401 for discord\/default through without refreshing/);

      vi.setSystemTime(expires + 1_000); // expired: it cannot be served, and cannot be refreshed
      const err = await tokens.getToken('discord', 'default').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CredentialError);
      expect((err as Error).message).toMatch(
        /^discord\/default's token has expired and cannot be refreshed: cannot reach the shared store/,
      );
      expect((err as Error).cause).toBeInstanceOf(StoreUnavailableError);
    } finally {
      vi.useRealTimers();
      await pg.start();
    }
    const after = await store.read('discord', 'default');
    expect(after?.status).toBe('connected');
    expect(after?.tokens.refresh_token).toBe('refresh-token');
  }, 90_000);
});

describe('keygate run while the database goes down', () => {
  it('keeps answering the agent with the token it holds; the connection stays connected', async () => {
    const session = await startSession();
    try {
      const url = await freshDatabase(pg.adminUrl);
      const extra = { KEYGATE_STORE: url, KEYGATE_PASSPHRASE: 'outage', KEYGATE_KEY_BACKEND: undefined };
      const home = tempHome();
      const login = await session.login(home, [], undefined, extra);
      expect(login.code, login.stderr).toBe(0);
      const env = session.envFor(home, extra);
      const dir = tempHome();
      const client = path.join(dir, 'two-step.mjs');
      // One request, then wait for the go file, then another.
      fs.writeFileSync(
        client,
        `import fs from 'node:fs';
const get = async () => { const r = await fetch('https://discord.com/api/v10/users/@me'); await r.arrayBuffer(); return r.status; };
const first = await get();
fs.writeFileSync(process.argv[2] + '.ready', '');
while (!fs.existsSync(process.argv[2])) await new Promise((r) => setTimeout(r, 20));
console.log(JSON.stringify([first, await get()]));
`,
      );
      const go = path.join(dir, 'go');
      const running = runCli(['run', '--', process.execPath, client, go], { env, timeoutMs: 60_000 });
      while (!fs.existsSync(`${go}.ready`)) await sleep(20);
      await pg.crash();
      try {
        fs.writeFileSync(go, '');
        const r = await running;
        expect(r.code, r.stderr).toBe(0);
        expect(JSON.parse(r.stdout.trim())).toEqual([200, 200]);
      } finally {
        await pg.start();
      }
      expect((await runCli(['get', 'discord', '--field', 'status'], { env })).stdout).toBe('connected\n');
    } finally {
      await session.close();
    }
  }, 120_000);
});
