// Token lifecycle against the emulator: proactive refresh, reactive refresh after a 401, single
// flight across processes, revocation, and 5xx on refresh not mistaken for revocation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openVault } from '../../src/vault/index.js';
import { runCli, tempHome } from '../helpers/cli.js';
import { startSession, type Session } from '../helpers/session.js';

let session: Session;
beforeAll(async () => {
  session = await startSession();
});
afterAll(() => session.close());

const counters = () => session.emulator.controls.counters();

/** A fresh home logged in with tokens of the given lifetime. */
async function connected(lifetimeSeconds: number): Promise<{ home: string; env: NodeJS.ProcessEnv }> {
  session.emulator.controls.setTokenLifetime(lifetimeSeconds);
  const home = tempHome();
  const r = await session.login(home);
  expect(r.code, r.stderr).toBe(0);
  session.emulator.controls.setTokenLifetime(604800);
  return { home, env: session.envFor(home) };
}

/**
 * Moves the stored token's expiry into the past, as time passing would (the vault is the clock each
 * keygate process reads). The emulator still accepts the token: a refresh that follows is keygate's
 * own decision, never a reaction to a 401. No test sleeps through a real token lifetime.
 */
async function expireStored(home: string): Promise<void> {
  const vault = await openVault({ home, env: { KEYGATE_KEY_BACKEND: 'keyfile' }, stderr: () => undefined, keychain: null });
  const record = (await vault.read('discord', 'default'))!;
  await vault.write({ ...record, tokens: { ...record.tokens, expires_at: new Date(Date.now() - 1000).toISOString() } });
}

const reveal = (env: NodeJS.ProcessEnv) => runCli(['get', 'discord', '--field', 'access_token', '--reveal'], { env });

describe('token lifecycle', () => {
  it('refreshes proactively before use: a new token, no 401 upstream, refresh token rotated', async () => {
    const { env, home } = await connected(604800);
    const first = (await reveal(env)).stdout.trim();
    const refreshesBefore = counters().refreshes;
    const unauthorizedBefore = counters().unauthorized;
    await expireStored(home);
    const r = await reveal(env);
    expect(r.code, r.stderr).toBe(0);
    const second = r.stdout.trim();
    expect(second).not.toBe(first);
    expect(counters().refreshes).toBe(refreshesBefore + 1);
    expect(counters().unauthorized).toBe(unauthorizedBefore);
    const json = JSON.parse((await runCli(['get', 'discord', '--json'], { env })).stdout);
    expect(json.status).toBe('connected');
    expect(Date.parse(json.refreshed_at)).toBeGreaterThan(Date.parse(json.created_at));
  });

  it('a 7-day token is not refreshed on use', async () => {
    const { env } = await connected(604800);
    const before = counters().refreshes;
    await reveal(env);
    await reveal(env);
    expect(counters().refreshes).toBe(before);
  });

  it('status: server-side expiry → one refresh and a healthy answer', async () => {
    const { env } = await connected(604800);
    session.emulator.controls.expireAllTokens();
    const before = counters().refreshes;
    const r = await runCli(['status', 'discord', '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.healthy).toBe(true);
    expect(doc.connections[0]).toMatchObject({
      provider: 'discord',
      connection: 'default',
      status: 'connected',
      healthy: true,
      checked_live: true,
      account_name: 'alice',
    });
    expect(doc.connections[0].scopes).toEqual(['identify', 'email', 'guilds', 'connections']);
    expect(counters().refreshes).toBe(before + 1);
  });

  it('8 concurrent processes across an expiry: exactly one refresh, no invalid_grant', async () => {
    const { env, home } = await connected(604800);
    await expireStored(home);
    const refreshes = counters().refreshes;
    const invalidGrants = counters().invalidGrants;
    const results = await Promise.all(Array.from({ length: 8 }, () => reveal(env)));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    expect(new Set(results.map((r) => r.stdout)).size).toBe(1);
    expect(counters().refreshes).toBe(refreshes + 1);
    expect(counters().invalidGrants).toBe(invalidGrants);
  });

  it('a revoked authorization shows as revoked: status exits 5, get and list give the hint, and the hint works', async () => {
    const { env, home } = await connected(604800);
    session.emulator.controls.revokeAll();
    const status = await runCli(['status'], { env });
    expect(status.code).toBe(5);
    expect(status.stdout).toMatch(/discord\s+default\s+revoked/);
    // Plain login: --force would ask for the client credentials again (issue 16).
    expect(status.stdout).toContain('run `keygate login discord`');
    expect(status.stdout).not.toContain('--force');
    expect((await runCli(['get', 'discord', '--field', 'status'], { env })).stdout).toBe('revoked\n');
    const json = JSON.parse((await runCli(['get', 'discord', '--json'], { env })).stdout);
    expect(json).toMatchObject({
      status: 'revoked',
      status_reason: 'refresh token refused by Discord (invalid_grant)',
      hint: 'run `keygate login discord`',
    });
    expect(Number.isNaN(Date.parse(json.status_changed_at))).toBe(false);
    const secret = await reveal(env);
    expect(secret.code).toBe(5);
    expect(secret.stderr).toBe(
      'keygate: discord/default is revoked (refresh token refused by Discord (invalid_grant)) — run `keygate login discord`\n',
    );
    expect((await runCli(['list'], { env })).stdout).toMatch(/revoked.*run `keygate login discord`$/m);
    // The way forward, run as suggested: no terminal, and no client credentials in the environment.
    const again = await session.login(home, [], undefined, { DISCORD_CLIENT_ID: undefined, DISCORD_CLIENT_SECRET: undefined });
    expect(again.code, again.stderr).toBe(0);
    expect((await runCli(['status'], { env })).code).toBe(0);
  });

  it('5xx during refresh is retried, and is never taken for revocation', async () => {
    const { env, home } = await connected(604800);
    await expireStored(home);
    // Two failures, then success: the retry inside the request's budget recovers.
    session.emulator.controls.failNext(2, 503, 'token');
    const refreshes = counters().refreshes;
    const r = await reveal(env);
    expect(r.code, r.stderr).toBe(0);
    expect(counters().refreshes).toBe(refreshes + 1);

    // The provider stays down past the budget (10 s, real) while the token has run out: expired, not revoked.
    await expireStored(home);
    session.emulator.controls.failNext(1000, 503, 'token');
    const invalidGrants = counters().invalidGrants;
    const down = await reveal(env);
    expect(down.code).toBe(5);
    expect(down.stderr).toMatch(/^keygate: discord\/default is expired \(refresh failed: token refresh at discord\.com failed: HTTP 503\)/);
    expect((await runCli(['get', 'discord', '--field', 'status'], { env })).stdout).toBe('expired\n');
    expect(counters().invalidGrants).toBe(invalidGrants);

    // The refresh token was kept: once the provider is back, the connection recovers.
    session.emulator.controls.failNext(0);
    const back = await reveal(env);
    expect(back.code, back.stderr).toBe(0);
    expect((await runCli(['get', 'discord', '--field', 'status'], { env })).stdout).toBe('connected\n');
  }, 40_000);
});
