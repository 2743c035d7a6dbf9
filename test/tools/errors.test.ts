// How `keygate call` answers provider failures: 401 → one refresh and a replay, revoked when a
// refreshed token is refused too; Discord's 401 for a missing scope is not taken for revocation;
// a short 429 is waited out once, a long one reported; 5xx retried with backoff. Its own emulator,
// since these tests revoke grants and inject faults.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli, tempHome } from '../helpers/cli.js';
import { startSession, type Session } from '../helpers/session.js';

let session: Session;
beforeAll(async () => {
  session = await startSession();
});
afterAll(() => session.close());
beforeEach(() => session.emulator.controls.resetCounters());

async function connected(args: string[] = []): Promise<{ home: string; env: NodeJS.ProcessEnv }> {
  const home = tempHome();
  const r = await session.login(home, args);
  expect(r.code, r.stderr).toBe(0);
  session.emulator.controls.resetCounters();
  return { home, env: session.envFor(home) };
}
const counters = () => session.emulator.controls.counters();
const call = (env: NodeJS.ProcessEnv, tool: string, ...args: string[]) => runCli(['call', 'discord', tool, ...args], { env });

describe('keygate call: provider errors', () => {
  it('a token expired at the provider: one refresh, one replay, success', async () => {
    const { env } = await connected();
    session.emulator.controls.expireAllTokens();
    const r = await call(env, 'get_my_user');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).username).toBe('alice');
    expect(counters()).toMatchObject({ unauthorized: 1, refreshes: 1, apiCalls: 2 });
  });

  it('a Discord 401 for a scope the tool does not declare: the token is live, so the connection is not marked revoked', async () => {
    const { home, env } = await connected(['--scopes', 'identify']);
    fs.mkdirSync(path.join(home, 'providers'));
    // Wrong on purpose: the guild list needs `guilds`, which this definition leaves out.
    const tool = { description: 'Guilds, declared without their scope.', path: '/users/@me/guilds' };
    fs.writeFileSync(path.join(home, 'providers', 'discord.json'), JSON.stringify({ tools: { undeclared_guilds: tool } }));
    const r = await call(env, 'undeclared_guilds');
    expect(r.code).toBe(5);
    expect(r.stderr).toContain(
      "keygate: Discord refused discord/default's token for undeclared_guilds, though the token is live — the tool may need a scope",
    );
    expect(counters()).toMatchObject({ refreshes: 1, unauthorized: 2 });
    const status = await runCli(['get', 'discord', '--field', 'status'], { env });
    expect(status.stdout).toBe('connected\n');
  });

  it('a revoked authorization: the refresh is refused, the call exits 5 and the connection shows revoked', async () => {
    const { env } = await connected();
    session.emulator.controls.revokeAll();
    const r = await call(env, 'get_my_user');
    expect(r.code).toBe(5);
    expect(r.stderr).toBe(
      'keygate: discord/default is revoked (refresh token refused by Discord (invalid_grant)) — run `keygate login discord`\n',
    );
    expect(counters()).toMatchObject({ apiCalls: 1, refreshes: 0, invalidGrants: 1 });
    expect((await runCli(['get', 'discord', '--field', 'status'], { env })).stdout).toBe('revoked\n');
    // Afterwards nothing is sent at all.
    session.emulator.controls.resetCounters();
    expect((await call(env, 'get_my_user')).code).toBe(5);
    expect(counters()).toMatchObject({ apiCalls: 0, tokenRequests: 0 });
  });

  it('a 429 with a short retry_after is waited out once', async () => {
    const { env } = await connected();
    session.emulator.controls.rateLimitNext(1, 0.3);
    const r = await call(env, 'list_my_guilds');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toHaveLength(3);
    expect(r.stderr).toBe('keygate: Discord rate limit; retrying in 0.3 s\n');
    expect(counters()).toMatchObject({ rateLimited: 1, apiCalls: 2 });
  });

  it('a 429 with a long retry_after is reported at once, as is a second 429', async () => {
    const { env } = await connected();
    session.emulator.controls.rateLimitNext(1, 42.5);
    const r = await call(env, 'get_gateway');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('keygate: get_gateway: rate limited by Discord — try again in 43 s\n');
    expect(counters().apiCalls).toBe(1);
    session.emulator.controls.resetCounters();
    session.emulator.controls.rateLimitNext(2, 0.2);
    const twice = await call(env, 'get_gateway');
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain('rate limited by Discord — try again in 0.2 s');
    expect(counters().apiCalls).toBe(2);
  });

  it('5xx answers are retried with backoff; persistent ones are reported', async () => {
    const { env } = await connected();
    session.emulator.controls.failNext(2, 503, 'api');
    const r = await call(env, 'get_my_user');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('keygate: Discord answered 503; retrying in 0.3 s\nkeygate: Discord answered 503; retrying in 1.0 s\n');
    expect(counters()).toMatchObject({ injectedFailures: 2, apiCalls: 3 });
    session.emulator.controls.resetCounters();
    session.emulator.controls.failNext(3, 502, 'api');
    const down = await call(env, 'get_gateway');
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/keygate: get_gateway: Discord answered 502: 502: Bad Gateway — try again later\n$/);
    expect(counters().apiCalls).toBe(3);
  });
});
