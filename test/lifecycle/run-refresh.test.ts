// Refresh under `keygate run`: real proxies in concurrent processes across a token expiry, and a
// reactive refresh after a server-side expiry, with Node's global fetch as the client.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempHome } from '../helpers/cli.js';
import { startSession, type Session } from '../helpers/session.js';

let session: Session;
beforeAll(async () => {
  session = await startSession();
});
afterAll(() => session.close());

// Requests /users/@me every 50 ms until the stop file appears; writes the ready file after the first
// answer; prints one status per line.
const LOOP_CLIENT = `
import fs from 'node:fs';
const [stop, ready] = process.argv.slice(2);
const statuses = [];
while (!fs.existsSync(stop)) {
  const res = await fetch('https://discord.com/api/v10/users/@me', { headers: { authorization: 'Bearer ' + process.env.DISCORD_ACCESS_TOKEN } });
  await res.arrayBuffer();
  statuses.push(res.status);
  if (statuses.length === 1) fs.writeFileSync(ready, '');
  await new Promise((r) => setTimeout(r, 50));
}
console.log(JSON.stringify(statuses));
`;

// One request, then waits for a file to appear, then another request.
const TWO_STEP_CLIENT = `
import fs from 'node:fs';
const get = async () => { const r = await fetch('https://discord.com/api/v10/users/@me'); await r.arrayBuffer(); return r.status; };
const first = await get();
fs.writeFileSync(process.argv[2] + '.ready', '');
while (!fs.existsSync(process.argv[2])) await new Promise((r) => setTimeout(r, 20));
console.log(JSON.stringify([first, await get()]));
`;

function script(name: string, source: string): string {
  const file = path.join(tempHome('keygate-client-'), name);
  fs.writeFileSync(file, source);
  return file;
}

describe('refresh under keygate run', () => {
  it('8 concurrent runs across an expiry: every request succeeds, one refresh per expiry, no invalid_grant', async () => {
    const { controls } = session.emulator;
    const home = tempHome();
    expect((await session.login(home)).code).toBe(0);
    const env = session.envFor(home);
    const before = controls.counters();
    const logStart = controls.requestLog().length;
    const client = script('loop.mjs', LOOP_CLIENT);
    const signals = tempHome('keygate-signals-');
    const stop = path.join(signals, 'stop');
    const ready = Array.from({ length: 8 }, (_, i) => path.join(signals, `ready-${i}`));
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const refreshes = () => controls.counters().refreshes - before.refreshes;
    // Starting 8 runs on a loaded machine can take longer than a short-lived token lasts, so the
    // first expiry is the provider's, once all 8 serve (every token dies: each run's next request
    // gets 401). That refresh issues a 10 s token, whose expiry comes by the clock (stale 1 s
    // before). Stop 1.5 s after that second refresh, long before a third.
    const runs = Promise.all(ready.map((file) => runCli(['run', '--', process.execPath, client, stop, file], { env, timeoutMs: 120_000 })));
    try {
      for (let giveUp = Date.now() + 90_000; !ready.every((file) => fs.existsSync(file)) && Date.now() < giveUp;) await sleep(50);
      expect(refreshes()).toBe(0);
      controls.setTokenLifetime(10);
      controls.expireAllTokens();
      for (let giveUp = Date.now() + 60_000; refreshes() < 2 && Date.now() < giveUp;) await sleep(50);
      await sleep(1500);
    } finally {
      controls.setTokenLifetime(604800);
      fs.writeFileSync(stop, '');
    }
    const statuses = (await runs).flatMap((r) => {
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout.trim()) as number[];
    });
    expect(statuses.length).toBeGreaterThan(8);
    // A request sent with a token the provider just killed is answered after one refresh and replay.
    expect(statuses.every((s) => s === 200)).toBe(true);
    const after = controls.counters();
    const tokensUsed = new Set(
      controls
        .requestLog()
        .slice(logStart)
        .filter((e) => e.path === '/api/v10/users/@me' && e.status === 200)
        .map((e) => e.tokenId),
    );
    expect(tokensUsed.size).toBe(3); // the login's token, then one per expiry
    expect(after.refreshes - before.refreshes).toBe(2);
    expect(after.invalidGrants - before.invalidGrants).toBe(0);
  }, 180_000);

  it('a server-side expiry mid-run: the 401 triggers one refresh and one replay, the child sees 200', async () => {
    const { controls } = session.emulator;
    const home = tempHome();
    expect((await session.login(home)).code).toBe(0);
    const go = path.join(tempHome(), 'go');
    const client = script('two-step.mjs', TWO_STEP_CLIENT);
    const running = runCli(['run', '--', process.execPath, client, go], { env: session.envFor(home) });
    while (!fs.existsSync(`${go}.ready`)) await new Promise((r) => setTimeout(r, 20));
    const before = controls.counters();
    controls.expireAllTokens();
    fs.writeFileSync(go, '');
    const r = await running;
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toEqual([200, 200]);
    const after = controls.counters();
    expect(after.unauthorized - before.unauthorized).toBe(1);
    expect(after.refreshes - before.refreshes).toBe(1);
  });

  it('a revoked authorization: the child gets the 401 unchanged and the connection shows revoked', async () => {
    const { controls } = session.emulator;
    const home = tempHome();
    expect((await session.login(home)).code).toBe(0);
    const go = path.join(tempHome(), 'go');
    const client = script('two-step.mjs', TWO_STEP_CLIENT);
    const env = session.envFor(home);
    const running = runCli(['run', '--', process.execPath, client, go], { env });
    while (!fs.existsSync(`${go}.ready`)) await new Promise((r) => setTimeout(r, 20));
    controls.revokeAll();
    fs.writeFileSync(go, '');
    const r = await running;
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toEqual([200, 401]);
    expect((await runCli(['get', 'discord', '--field', 'status'], { env })).stdout).toBe('revoked\n');
  });
});
