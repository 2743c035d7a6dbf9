// `keygate config` and the precedence every setting follows: flag > environment > config file >
// default. Real CLI processes; login and status against the emulator show settings taking effect.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, runCli, tempHome } from '../helpers/cli.js';
import { freePort } from '../helpers/browser.js';
import { startSession, type Session } from '../helpers/session.js';

const oneLineError = /^keygate: .+ — .+\n$/;

let session: Session;
beforeAll(async () => {
  session = await startSession();
});
afterAll(() => session.close());

async function config(home: string, args: string[], extra: NodeJS.ProcessEnv = {}) {
  return runCli(['config', ...args], { env: cliEnv(home, extra) });
}

/** The port in the redirect_uri of the authorization URL a login prints (it then times out). */
async function loginPort(home: string, args: string[], extra: NodeJS.ProcessEnv = {}): Promise<number> {
  const r = await runCli(['login', 'discord', '--timeout', '1', ...args], { env: session.envFor(home, extra) });
  const url = /(https:\/\/\S+\/oauth2\/authorize\?\S+)/.exec(r.stdout)?.[1];
  expect(url, r.stdout + r.stderr).toBeDefined();
  return Number(new URL(new URL(url!).searchParams.get('redirect_uri')!).port);
}

describe('keygate config', () => {
  it('set, get, list, unset and path, in a 0600 file under KEYGATE_HOME', async () => {
    const home = tempHome();
    expect((await config(home, ['path'])).stdout).toBe(`${path.join(home, 'config.json')}\n`);
    expect(JSON.parse((await config(home, ['path', '--json'])).stdout)).toEqual({ path: path.join(home, 'config.json') });
    expect(await config(home, ['get', 'login.port'])).toMatchObject({ code: 0, stdout: '7998\n' });
    expect(await config(home, ['set', 'login.port', '8123'])).toMatchObject({ code: 0, stdout: 'login.port = 8123\n' });
    expect(await config(home, ['set', 'login.open_browser', 'no'])).toMatchObject({ code: 0, stdout: 'login.open_browser = false\n' });
    expect(await config(home, ['set', 'run.sandbox', 'require'])).toMatchObject({ code: 0 });
    const file = path.join(home, 'config.json');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({ login: { port: 8123, open_browser: false }, run: { sandbox: 'require' } });
    expect(JSON.parse((await config(home, ['get', 'login.port', '--json'])).stdout)).toEqual({
      key: 'login.port',
      value: 8123,
      source: 'config',
    });

    const listed = JSON.parse((await config(home, ['list', '--json'])).stdout);
    expect(listed.file).toBe(file);
    expect(listed.settings.map((s: { key: string }) => s.key)).toEqual([
      'login.port',
      'login.open_browser',
      'login.timeout',
      'run.sandbox',
      'refresh.margin',
      'store',
      'log.retention_days',
    ]);
    expect(listed.settings[0]).toMatchObject({
      key: 'login.port',
      value: 8123,
      source: 'config',
      default: 7998,
      env: 'KEYGATE_LOGIN_PORT',
      flag: '--port',
    });
    expect(listed.settings[4]).toMatchObject({ key: 'refresh.margin', value: 'auto', source: 'default' });
    expect((await config(home, ['list'])).stdout).toMatch(/^login\.port\s+8123\s+config\s+port of the login callback server/m);

    expect(await config(home, ['unset', 'login.port'])).toMatchObject({ code: 0, stdout: 'login.port unset (now 7998, default)\n' });
    expect(await config(home, ['unset', 'run.sandbox'])).toMatchObject({ code: 0 });
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({ login: { open_browser: false } });
  });

  it('a bad value is refused with the allowed values, and nothing is written', async () => {
    const home = tempHome();
    const cases: Array<[string, string, string]> = [
      ['login.port', '99999', 'expected an integer from 1 to 65535'],
      ['login.port', '80.5', 'expected an integer from 1 to 65535'],
      ['login.open_browser', 'maybe', 'expected true or false'],
      ['run.sandbox', 'strict', 'expected one of auto, require, off'],
      ['refresh.margin', '-5', 'expected auto, or an integer from 0 to 86400 (seconds)'],
      ['log.retention_days', 'forever', 'expected an integer from 0 to 3650'],
    ];
    for (const [key, value, allowed] of cases) {
      const r = await config(home, ['set', key, value]);
      expect(r.code, `${key}=${value}`).toBe(2);
      expect(r.stderr).toMatch(oneLineError);
      expect(r.stderr).toBe(`keygate: ${key} cannot be ${JSON.stringify(value)} — ${allowed}\n`);
    }
    expect(fs.existsSync(path.join(home, 'config.json'))).toBe(false);
  });

  it('an unknown key gets "did you mean" and the list of settings', async () => {
    const home = tempHome();
    for (const [args, guess] of [
      [['set', 'login.prot', '1'], 'login.port'],
      [['get', 'retention_days'], 'log.retention_days'],
      [['unset', 'run.sandbx'], 'run.sandbox'],
    ] as const) {
      const r = await config(home, [...args]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(oneLineError);
      expect(r.stderr).toContain(`(did you mean "${guess}"?) — settings: login.port, login.open_browser,`);
    }
    const far = await config(home, ['get', 'colour']);
    expect(far.stderr).toBe(
      'keygate: unknown setting "colour" — settings: login.port, login.open_browser, login.timeout, run.sandbox, refresh.margin, store, log.retention_days\n',
    );
  });

  it('a bad value in the environment is a usage error naming the variable', async () => {
    const home = tempHome();
    const r = await runCli(['login', 'discord'], { env: session.envFor(home, { KEYGATE_LOGIN_PORT: 'eighty' }) });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('keygate: KEYGATE_LOGIN_PORT="eighty" is not allowed for login.port — expected an integer from 1 to 65535\n');
  });

  it('a hand-edited bad value in the file is refused naming the file and the key', async () => {
    const home = tempHome();
    fs.writeFileSync(path.join(home, 'config.json'), JSON.stringify({ login: { timeout: 'soon' } }));
    const r = await config(home, ['get', 'login.timeout']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(oneLineError);
    expect(r.stderr).toContain(
      `${path.join(home, 'config.json')}: login.timeout is "soon", which is not allowed — expected an integer from 1 to 86400`,
    );
  });
});

describe('precedence: flag > environment > config file > default', () => {
  it('config get reports each level and its source', async () => {
    const home = tempHome();
    expect(JSON.parse((await config(home, ['get', 'log.retention_days', '--json'])).stdout)).toMatchObject({
      value: 30,
      source: 'default',
    });
    await config(home, ['set', 'log.retention_days', '7']);
    expect(JSON.parse((await config(home, ['get', 'log.retention_days', '--json'])).stdout)).toMatchObject({ value: 7, source: 'config' });
    const env = { KEYGATE_LOG_RETENTION_DAYS: '3' };
    expect(JSON.parse((await config(home, ['get', 'log.retention_days', '--json'], env)).stdout)).toMatchObject({
      value: 3,
      source: 'env',
    });
    const set = await config(home, ['set', 'log.retention_days', '9'], env);
    expect(set.stderr).toBe('keygate: note: KEYGATE_LOG_RETENTION_DAYS is set, and wins over the config file\n');
  });

  it('login.port: the callback port login uses comes from the flag, else the environment, else the file', async () => {
    const home = tempHome();
    const [fromFile, fromEnv, fromFlag] = [await freePort(), await freePort(), await freePort()];
    await config(home, ['set', 'login.port', String(fromFile)]);
    await config(home, ['set', 'login.open_browser', 'false']);
    expect(await loginPort(home, [])).toBe(fromFile);
    expect(await loginPort(home, [], { KEYGATE_LOGIN_PORT: String(fromEnv) })).toBe(fromEnv);
    expect(await loginPort(home, ['--port', String(fromFlag)], { KEYGATE_LOGIN_PORT: String(fromEnv) })).toBe(fromFlag);
  });

  it('run.sandbox: the file turns the sandbox off, the environment turns it back on, the flag wins over both', async () => {
    const home = tempHome();
    expect((await session.login(home)).code).toBe(0);
    const script = 'test -r "$KEYGATE_HOME/config.json" && echo readable || echo hidden';
    const run = async (args: string[], extra: NodeJS.ProcessEnv = {}) => {
      const r = await runCli(['run', ...args, '--', 'sh', '-c', script], { env: session.envFor(home, extra) });
      expect(r.code, r.stderr).toBe(0);
      return r.stdout.trim();
    };
    await config(home, ['set', 'run.sandbox', 'off']);
    expect(await run([])).toBe('readable');
    expect(await run([], { KEYGATE_RUN_SANDBOX: 'auto' })).toBe('hidden');
    expect(await run(['--no-sandbox'], { KEYGATE_RUN_SANDBOX: 'require' })).toBe('readable');
  });

  it('refresh.margin: a configured margin (capped at half the lifetime) makes status refresh early; the environment wins', async () => {
    const { controls } = session.emulator;
    controls.setTokenLifetime(30);
    const home = tempHome();
    try {
      expect((await session.login(home)).code).toBe(0);
    } finally {
      controls.setTokenLifetime(604800);
    }
    const env = session.envFor(home);
    const refreshes = () => controls.counters().refreshes;
    const status = async (extra: NodeJS.ProcessEnv = {}) =>
      expect((await runCli(['status', 'discord'], { env: session.envFor(home, extra) })).code).toBe(0);
    await config(home, ['set', 'refresh.margin', '25']);
    const before = refreshes();
    await status(); // 25 s is capped at 15 s (half of 30): a fresh token is not stale
    expect(refreshes() - before).toBe(0);
    // Once less than 15 s are left: stale with the configured margin, not with the environment's 0.
    const expiresAt = Date.parse((await runCli(['get', 'discord', '--field', 'expires_at'], { env })).stdout.trim());
    await new Promise((r) => setTimeout(r, Math.max(0, expiresAt - 14_000 - Date.now())));
    await status({ KEYGATE_REFRESH_MARGIN: '0' });
    expect(refreshes() - before).toBe(0);
    await status();
    expect(refreshes() - before).toBe(1);
  }, 60_000);
});
