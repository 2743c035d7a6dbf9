// Several hosts, one connection. 8 `keygate run` processes with separate KEYGATE_HOMEs stand in for
// hosts; their agents call Discord (the emulator) in a loop across 3 expiries of the access token.
// Discord refresh tokens are single-use, so every host refreshing on its own would burn the grant.
//   - sharing one PostgreSQL store: every request succeeds, exactly 3 refreshes, 0 invalid_grant;
//   - with the vault directory copied to each host (what users try first): invalid_grant, and
//     failed requests. This is the test showing it can fail.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempHome } from '../helpers/cli.js';
import { freshDatabase, sharedPostgres } from '../helpers/postgres.js';
import { startSession, type Session } from '../helpers/session.js';

const HOSTS = 8;
// Start-up of 8 hosts on a loaded 2-core machine can take longer than any token lifetime a test can
// wait for, so the first expiry is the provider's (every token dies at once: each host's next request
// gets 401) once all hosts serve; the refreshed tokens live 10 s, so the 2nd and 3rd expiries come by
// the clock (stale 1 s before expiry). Stopping 2 s after the 3rd refresh leaves ~7 s before a 4th.
const LIFETIME_S = 10;
const EXPIRIES = 3;

// Requests /users/@me every 100 ms; writes the ready file after the first answer, stops when the
// stop file appears; prints one status per request.
const LOOP_CLIENT = `
import fs from 'node:fs';
const [stop, ready] = process.argv.slice(2);
const statuses = [];
while (!fs.existsSync(stop)) {
  const res = await fetch('https://discord.com/api/v10/users/@me', { headers: { authorization: 'Bearer ' + process.env.DISCORD_ACCESS_TOKEN } });
  await res.arrayBuffer();
  statuses.push(res.status);
  if (statuses.length === 1) fs.writeFileSync(ready, '');
  await new Promise((r) => setTimeout(r, 100));
}
console.log(JSON.stringify(statuses));
`;

let session: Session;
let client: string;
beforeAll(async () => {
  session = await startSession();
  client = path.join(tempHome('keygate-client-'), 'loop.mjs');
  fs.writeFileSync(client, LOOP_CLIENT);
});
afterAll(() => session.close());

interface Race {
  statuses: number[];
  refreshes: number;
  /** Refreshes already done when the last host had its first answer (0: every host was in the first race). */
  refreshesBeforeAllReady: number;
  invalidGrants: number;
  tokensUsed: number;
  runCodes: Array<number | null>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Log in on hosts[0], let `prepare` give the other hosts their vault, then race them all across 3 expiries. */
async function raceAcrossExpiries(hosts: string[], extra: NodeJS.ProcessEnv, prepare: () => void): Promise<Race> {
  const env = (home: string) => session.envFor(home, extra);
  const { controls } = session.emulator;
  try {
    const login = await session.login(hosts[0], [], undefined, extra);
    expect(login.code, login.stderr).toBe(0);
    prepare();
    const before = controls.counters();
    const logStart = controls.requestLog().length;
    const signals = tempHome('keygate-race-');
    const stop = path.join(signals, 'stop');
    const ready = hosts.map((_, i) => path.join(signals, `ready-${i}`));
    const runs = Promise.all(
      hosts.map((home, i) => runCli(['run', '--', process.execPath, client, stop, ready[i]], { env: env(home), timeoutMs: 240_000 })),
    );
    // Once every host serves, expire every token; stop 2 s after the 3rd refresh (or after 60 s, when
    // refreshes stall: the test then fails on the count).
    const refreshes = () => controls.counters().refreshes - before.refreshes;
    let refreshesBeforeAllReady = -1;
    let giveUp = Date.now() + 120_000;
    while (refreshesBeforeAllReady < 0 && Date.now() < giveUp) {
      if (ready.every((f) => fs.existsSync(f))) refreshesBeforeAllReady = refreshes();
      await sleep(50);
    }
    controls.setTokenLifetime(LIFETIME_S);
    controls.expireAllTokens();
    giveUp = Date.now() + 60_000;
    while (refreshes() < EXPIRIES && Date.now() < giveUp) await sleep(50);
    await sleep(2_000);
    fs.writeFileSync(stop, '');
    const done = await runs;
    const after = controls.counters();
    const used = controls
      .requestLog()
      .slice(logStart)
      .filter((e) => e.path === '/api/v10/users/@me' && e.status === 200)
      .map((e) => e.tokenId);
    return {
      statuses: done.flatMap((r) => (r.stdout.trim().startsWith('[') ? (JSON.parse(r.stdout.trim()) as number[]) : [])),
      refreshes: after.refreshes - before.refreshes,
      refreshesBeforeAllReady,
      invalidGrants: after.invalidGrants - before.invalidGrants,
      tokensUsed: new Set(used).size,
      runCodes: done.map((r) => r.code),
    };
  } finally {
    controls.setTokenLifetime(604800);
  }
}

describe(`${HOSTS} hosts racing across 3 expiries of one connection`, () => {
  it('sharing one PostgreSQL store: all requests succeed, exactly 3 refreshes, 0 invalid_grant', async () => {
    const url = await freshDatabase(await sharedPostgres());
    const hosts = Array.from({ length: HOSTS }, () => tempHome('keygate-host-'));
    const race = await raceAcrossExpiries(
      hosts,
      { KEYGATE_STORE: url, KEYGATE_PASSPHRASE: 'fleet', KEYGATE_KEY_BACKEND: undefined },
      () => undefined,
    );
    expect(race.runCodes).toEqual(Array(HOSTS).fill(0));
    expect(race.refreshesBeforeAllReady).toBe(0); // every host was serving before the first expiry
    expect(race.statuses.length).toBeGreaterThan(HOSTS * 20);
    expect(race.statuses.filter((s) => s !== 200)).toEqual([]);
    expect(race.refreshes).toBe(3);
    expect(race.invalidGrants).toBe(0);
    expect(race.tokensUsed).toBe(4); // the login's token, then one per refresh
  }, 300_000);

  it('with the vault directory copied to each host: invalid_grant and failed requests (the test can fail)', async () => {
    const hosts = Array.from({ length: HOSTS }, () => tempHome('keygate-host-'));
    const env = (home: string) => session.envFor(home);
    const race = await raceAcrossExpiries(hosts, {}, () => {
      for (const home of hosts.slice(1)) fs.cpSync(path.join(hosts[0], 'vault'), path.join(home, 'vault'), { recursive: true });
    });
    expect(race.invalidGrants).toBeGreaterThan(0);
    expect(race.statuses.filter((s) => s !== 200).length).toBeGreaterThan(0);
    // Each host that lost the race marked the connection revoked in its own copy.
    const revoked = await Promise.all(
      hosts.map(async (home) => (await runCli(['get', 'discord', '--field', 'status'], { env: env(home) })).stdout.trim()),
    );
    expect(revoked.filter((s) => s === 'revoked').length).toBeGreaterThan(0);
  }, 300_000);
});
