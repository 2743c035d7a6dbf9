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

// Requests /users/@me until the stop file (argv[2]) appears, after writing argv[3] once the first
// answer is in; prints the statuses as a JSON array. Driven by files, not a deadline, so a slow
// start on a loaded machine cannot leave a client with nothing to do.
const LOOP_CLIENT = `
import fs from 'node:fs';
const statuses = [];
do {
  const res = await fetch('https://discord.com/api/v10/users/@me', { headers: { authorization: 'Bearer ' + process.env.DISCORD_ACCESS_TOKEN } });
  await res.arrayBuffer();
  statuses.push(res.status);
  if (statuses.length === 1) fs.writeFileSync(process.argv[3], '');
  await new Promise((r) => setTimeout(r, 50));
} while (!fs.existsSync(process.argv[2]));
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
    controls.setTokenLifetime(10);
    const home = tempHome();
    expect((await session.login(home)).code).toBe(0);
    const env = session.envFor(home);
    const before = controls.counters();
    const logStart = controls.requestLog().length;
    const client = script('loop.mjs', LOOP_CLIENT);
    const dir = path.dirname(client);
    const stop = path.join(dir, 'stop');
    const expiresAt = Date.parse((await runCli(['get', 'discord', '--field', 'expires_at'], { env })).stdout.trim());
    // Token lifetimes from here on are long: the refreshed token does not expire during the test.
    controls.setTokenLifetime(604800);
    const pending = Array.from({ length: 8 }, (_, i) => runCli(['run', '--', process.execPath, client, stop, path.join(dir, `ready-${i}`)], { env, timeoutMs: 45_000 }));
    // Every client has had an answer, and the login's token is past expiry (stale 1 s before it):
    // the runs overlap across it.
    while (fs.readdirSync(dir).filter((f) => f.startsWith('ready-')).length < 8 || Date.now() < expiresAt + 1500) await new Promise((r) => setTimeout(r, 100));
    fs.writeFileSync(stop, '');
    const runs = await Promise.all(pending);
    const statuses = runs.flatMap((r) => {
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout.trim()) as number[];
    });
    expect(statuses.length).toBeGreaterThan(8);
    expect(statuses.every((s) => s === 200)).toBe(true);
    const after = controls.counters();
    const tokensUsed = new Set(controls.requestLog().slice(logStart).filter((e) => e.path === '/api/v10/users/@me' && e.status === 200).map((e) => e.tokenId));
    // The login's token (unless every run started after its expiry, on a very loaded machine), then
    // the one refreshed at expiry; never a third.
    expect(tokensUsed.size).toBeGreaterThanOrEqual(1);
    expect(tokensUsed.size).toBeLessThanOrEqual(2);
    expect(after.refreshes - before.refreshes).toBe(1);
    expect(after.invalidGrants - before.invalidGrants).toBe(0);
  }, 60_000);

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
