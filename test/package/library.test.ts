// The library as a user gets it: `npm pack`, the tarball installed into a temporary project, a
// consumer that imports `keygate` by name (so through `exports` and the shipped `.d.ts`) compiled
// with `tsc --strict`, then run against the emulator, exercising every function of the API.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_CLIENT_ID } from '../../src/emulator/fixtures.js';
import { ExitCode } from '../../src/errors.js';
import { repoRoot, runCli, tempHome } from '../helpers/cli.js';
import { freePort } from '../helpers/browser.js';
import { startSession, type Session } from '../helpers/session.js';

const exec = promisify(execFile);
const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  optionalDependencies?: Record<string, string>;
};

let project: string;
let session: Session;

/**
 * Installs the tarball the way npm installs one (its `package/` folder becomes
 * node_modules/keygate), with the dependencies linked from this checkout's node_modules: the test
 * needs no registry and takes a second, and the package's own files are exactly the packed ones.
 */
async function installPacked(): Promise<string> {
  const dir = tempHome('keygate-consumer-');
  const { stdout } = await exec('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: repoRoot });
  const tarball = path.join(dir, (JSON.parse(stdout) as Array<{ filename: string }>)[0].filename);
  const modules = path.join(dir, 'node_modules');
  fs.mkdirSync(path.join(modules, 'keygate'), { recursive: true });
  await exec('tar', ['-xzf', tarball, '-C', path.join(modules, 'keygate'), '--strip-components=1']);
  const deps = [...Object.keys(pkg.dependencies), ...Object.keys(pkg.optionalDependencies ?? {}), '@types/node', 'undici-types'];
  for (const dep of deps) {
    const from = path.join(repoRoot, 'node_modules', dep);
    if (!fs.existsSync(from)) continue; // an optional dependency that did not install (keytar without a compiler)
    fs.mkdirSync(path.dirname(path.join(modules, dep)), { recursive: true });
    fs.symlinkSync(from, path.join(modules, dep));
  }
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  for (const file of ['consumer.ts', 'tsconfig.json'])
    fs.copyFileSync(path.join(import.meta.dirname, 'consumer', file), path.join(dir, file));
  return dir;
}

beforeAll(async () => {
  [project, session] = await Promise.all([installPacked(), startSession()]);
}, 60_000);

afterAll(async () => {
  await session?.close();
});

describe('keygate as a library, from the packed tarball', () => {
  it('resolves through `exports` only: the entry, its types and package.json; nothing deeper', async () => {
    const probe = `
      const m = await import('keygate');
      const out = { exports: Object.keys(m).sort() };
      try { await import('keygate/dist/cli.js'); out.deep = 'imported'; } catch (e) { out.deep = e.code; }
      console.log(JSON.stringify(out));`;
    const { stdout } = await exec(process.execPath, ['--input-type=module', '-e', probe], { cwd: project });
    const result = JSON.parse(stdout) as { exports: string[]; deep: string };
    expect(result.exports).toEqual(
      [
        'ConnectionNotFoundError',
        'CredentialError',
        'ExitCode',
        'InterruptedError',
        'Keygate',
        'KeygateError',
        'ProviderError',
        'ProviderRequestError',
        'StoreUnavailableError',
        'UsageError',
        'VaultError',
        'formatError',
        'openKeygate',
      ].sort(),
    );
    expect(result.deep).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
    expect(fs.existsSync(path.join(project, 'node_modules/keygate/dist/index.d.ts'))).toBe(true);
  });

  it('tsc --strict compiles a consumer that uses every export, with no skipLibCheck', async () => {
    const tsc = path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = await exec(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: project }).catch((err: { stdout: string }) => ({
      stdout: err.stdout,
      failed: true,
    }));
    expect(result.stdout).toBe('');
    expect(fs.existsSync(path.join(project, 'out', 'consumer.js'))).toBe(true);
  }, 60_000);

  it('every function against the emulator: status, login with the URL shown by the app, tools, call, the access token, run, errors', async () => {
    const home = tempHome();
    const port = await freePort();
    session.emulator.controls.registerRedirectUri(DEMO_CLIENT_ID, `http://127.0.0.1:${port}/auth/callback/oauth`);
    // A BROWSER command that leaves a mark: the library must not run it, since the app shows the link.
    const marker = path.join(home, 'browser-was-opened');
    const browser = path.join(home, 'browser.sh');
    fs.writeFileSync(browser, `#!/bin/sh\ntouch '${marker}'\n`, { mode: 0o755 });
    const env = session.envFor(home, { CONSUMER_LOGIN_PORT: String(port), BROWSER: browser, DISPLAY: ':0' });
    let stdout = '';
    let approved: Promise<void> | undefined;
    const consumer = exec(process.execPath, [path.join(project, 'out', 'consumer.js')], { cwd: project, env, timeout: 90_000 });
    consumer.child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const url = /^URL (\S+)$/m.exec(stdout)?.[1];
      if (url && !approved)
        approved = session.browser
          .authorize(url)
          .then((callback) => session.browser.visit(callback))
          .then(() => undefined);
    });
    const { stderr } = await consumer;
    await approved;
    const report = JSON.parse(/^REPORT (.+)$/m.exec(stdout)![1]) as Record<string, any>;

    expect(report.version).toBe('0.1.0');
    expect(report.home).toBe(home);
    expect(report.beforeStatus).toBe('not_connected');
    expect(fs.existsSync(marker)).toBe(false);
    expect(report.loggedIn).toMatchObject({
      provider: 'discord',
      connection: 'default',
      status: 'connected',
      account_name: 'alice',
      missing_scopes: [],
    });
    expect(report.connections).toHaveLength(1);
    expect(report.one).toMatchObject({ status: 'connected', scopes: 'identify email guilds connections' });
    expect(report.store).toMatchObject({ store: 'files', key_backend: 'keyfile' });
    expect(report.after).toMatchObject({ status: 'connected', healthy: true, checked_live: true });
    expect(report.all).toBe(1);
    expect(report.tools).toBeGreaterThan(10);
    expect(report.catalog.status).toBe('connected');
    expect(report.catalog.callable).toContain('list_my_guilds');
    expect(report.getMyUser).toMatchObject({
      name: 'get_my_user',
      url: 'https://discord.com/api/v10/users/@me',
      auth: 'user',
      schema: { type: 'object' },
    });
    expect(report.me).toMatchObject({ kind: 'json', status: 200, body: { username: 'alice' } });
    expect(report.guilds).toBe(2);

    // The revealed token is the stored one, as the CLI reveals it.
    const cli = await runCli(['get', 'discord', '--field', 'access_token', '--reveal'], { env: session.envFor(home) });
    expect(report.token).toBe(cli.stdout.trim());

    // run: the child saw a placeholder, never the token, and the proxy made its request work.
    expect(report.child.exit).toBe(7);
    expect(report.child.pid).toBeGreaterThan(0);
    expect(report.child.output).toMatchObject({ status: 200, user: { username: 'alice' } });
    expect(report.child.output.placeholder).not.toContain(report.token);
    expect(report.child.output.placeholder).toMatch(/^kgph_discord_default_/);

    expect(report.errors.usage).toMatchObject({ name: 'UsageError', code: 'usage', exitCode: 2 });
    expect(report.errors.usage.line).toMatch(/^keygate: .* — /);
    expect(report.errors.badInput).toMatchObject({ code: 'usage', exitCode: 2 });
    expect(report.errors.notConnected).toMatchObject({ name: 'ConnectionNotFoundError', code: 'not_connected', exitCode: 3 });
    expect(report.errors.provider).toMatchObject({ name: 'ProviderError', code: 'provider', exitCode: 4 });
    expect(report.errors.relogin.line).toContain('already connected');
    expect(report.classes).toEqual([
      { name: 'UsageError', code: 'usage', exitCode: 2, keygateError: true },
      { name: 'ConnectionNotFoundError', code: 'not_connected', exitCode: 3, keygateError: true },
      { name: 'ProviderError', code: 'provider', exitCode: 4, keygateError: true },
      { name: 'CredentialError', code: 'credential', exitCode: 5, keygateError: true },
      { name: 'InterruptedError', code: 'interrupted', exitCode: 130, keygateError: true },
      { name: 'VaultError', code: 'vault', exitCode: 1, keygateError: true },
      { name: 'StoreUnavailableError', code: 'store_unavailable', exitCode: 1, keygateError: true },
      { name: 'ProviderRequestError', code: 'provider_request', exitCode: 1, keygateError: true },
    ]);
    expect(report.exitCodes).toEqual({ ...ExitCode });
    // No secret on the library's stderr either.
    expect(stderr).not.toContain(report.token);
  }, 120_000);
});
