// The CLI contract: help, version, exit codes, one-line errors, parseable --json. Real child processes.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliEnv, repoRoot, runCli, tempHome } from '../helpers/cli.js';

const home = tempHome();
const env = cliEnv(home);
const oneLineError = /^keygate: .+ — .+\n$/;

describe('keygate CLI basics', () => {
  it('--help lists the commands and exits 0', async () => {
    const r = await runCli(['--help'], { env });
    expect(r.code).toBe(0);
    for (const command of ['login', 'logout', 'list', 'get', 'run', 'providers', 'demo', 'status']) expect(r.stdout).toContain(command);
  });

  it('--version prints the package version', async () => {
    const r = await runCli(['--version'], { env });
    const pkg = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, '../../package.json'), 'utf8'));
    expect(r).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
  });

  it.each([
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['list', '--bogus'], /unknown option '--bogus'/],
    [['get', 'discord', '--connection', 'Bad Name'], /`Bad Name` is not a valid connection name/],
    [['get', 'discord', '--field', 'password'], /argument 'password' is invalid/],
    [['login', 'discord', '--port', '70000'], /expected a port number 1-65535, got `70000`/],
    [['login', 'discord', '--timeout', '-3'], /expected a positive number of seconds/],
    [['get'], /missing required argument 'provider'/],
    [['get', 'discord', '--field', 'access_token'], /needs --reveal/],
  ])('usage error %j exits 2 with one line', async (args, message) => {
    const r = await runCli(args, { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(oneLineError);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });

  it('a command group without a subcommand shows its help and exits 2', async () => {
    const r = await runCli(['providers'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Usage: keygate providers');
  });

  it('an unknown provider exits 4 with the known ones', async () => {
    const r = await runCli(['get', 'slack', '--field', 'status'], { env });
    expect(r.code).toBe(4);
    expect(r.stderr).toBe('keygate: unknown provider "slack" — known providers: discord\n');
  });

  it('the schema file beside the bundled providers is not a provider', async () => {
    for (const args of [
      ['get', 'schema', '--field', 'status'],
      ['providers', 'inspect', 'schema'],
    ]) {
      const r = await runCli(args, { env });
      expect(r.code).toBe(4);
      expect(r.stderr).toBe('keygate: unknown provider "schema" — known providers: discord\n');
    }
  });

  it('get --field status takes the fast path and the full one alike', async () => {
    for (const args of [
      ['get', 'discord', '--field=status'],
      ['get', '--field', 'status', 'discord', '--connection', 'work'],
      ['get', 'discord', '--field', 'status', '--connection=work'],
    ]) {
      const r = await runCli(args, { env });
      expect(r).toMatchObject({ code: 0, stdout: 'not_connected\n', stderr: '' });
    }
  });

  it('get --field status answers not_connected with exit 0 for a known provider', async () => {
    const r = await runCli(['get', 'discord', '--field', 'status'], { env });
    expect(r).toMatchObject({ code: 0, stdout: 'not_connected\n', stderr: '' });
  });

  it('get of any other field of a missing connection exits 3', async () => {
    for (const args of [
      ['get', 'discord', '--field', 'account_name'],
      ['get', 'discord', '--json'],
      ['get', 'discord', '--connection', 'work'],
    ]) {
      const r = await runCli(args, { env });
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(oneLineError);
      expect(r.stdout).toBe('');
    }
  });

  it('login with no client credentials and no TTY exits 1 naming the variables', async () => {
    const r = await runCli(['login', 'discord', '--no-browser'], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      "keygate: no OAuth client credentials for Discord — set DISCORD_CLIENT_ID and DISCORD_CLIENT_SECRET (from your app in the provider's developer portal), or run in a terminal to be asked\n",
    );
  });

  it('an unexpected error prints one line, and a stack trace only with KEYGATE_DEBUG=1', async () => {
    // vault/connections as a file makes the vault fail in a way no command anticipates.
    const file = tempHome();
    fs.mkdirSync(path.join(file, 'vault'));
    fs.writeFileSync(path.join(file, 'vault', 'connections'), '');
    const quiet = await runCli(['list'], { env: cliEnv(file) });
    expect(quiet.code).toBe(1);
    expect(quiet.stderr.trim().split('\n')).toHaveLength(1);
    const debug = await runCli(['list'], { env: cliEnv(file, { KEYGATE_DEBUG: '1' }) });
    expect(debug.code).toBe(1);
    expect(debug.stderr).toMatch(/\n\s+at /);
  });
});

describe('providers commands', () => {
  it('providers list --json parses and shows source and auth type', async () => {
    const r = await runCli(['providers', 'list', '--json'], { env });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      providers: [
        {
          name: 'discord',
          display_name: 'Discord',
          source: 'bundled',
          auth_type: 'oauth2',
          files: [path.join(repoRoot, 'providers', 'discord.json')],
        },
      ],
    });
  });

  it('providers list shows a custom provider and an override as custom', async () => {
    const custom = tempHome();
    fs.mkdirSync(path.join(custom, 'providers'));
    fs.writeFileSync(path.join(custom, 'providers', 'discord.json'), JSON.stringify({ display_name: 'Discord (corp)' }));
    const r = await runCli(['providers', 'list'], { env: cliEnv(custom) });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/discord\s+Discord \(corp\)\s+custom\s+oauth2/);
  });

  it('providers inspect prints the merged definition as a provider file; --json adds provenance', async () => {
    const r = await runCli(['providers', 'inspect', 'discord'], { env });
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.oauth2.token_url).toBe('https://discord.com/api/oauth2/token');
    for (const provenance of ['name', 'source', 'files']) expect(doc).not.toHaveProperty(provenance);
    const json = await runCli(['providers', 'inspect', 'discord', '--json'], { env });
    expect(JSON.parse(json.stdout)).toEqual({
      name: 'discord',
      source: 'bundled',
      files: [path.join(repoRoot, 'providers', 'discord.json')],
      definition: doc,
    });
  });

  it('providers validate: ok for a good file, exit 4 naming file and path for a bad one', async () => {
    const good = await runCli(['providers', 'validate', path.join(import.meta.dirname, '../../providers/discord.json')], { env });
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(/valid/);
    const dir = tempHome();
    const bad = path.join(dir, 'acme.json');
    fs.writeFileSync(bad, JSON.stringify({ display_name: 'Acme', auth_type: 'saml' }));
    const r = await runCli(['providers', 'validate', bad], { env });
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(oneLineError);
    expect(r.stdout).toContain(`${bad}: $.auth_type expected one of "oauth2", got "saml"`);
  });

  it('a broken user override makes commands using that provider exit 4 naming the file', async () => {
    const broken = tempHome();
    fs.mkdirSync(path.join(broken, 'providers'));
    fs.writeFileSync(path.join(broken, 'providers', 'discord.json'), '{ "display_name": ');
    const r = await runCli(['get', 'discord', '--field', 'status'], { env: cliEnv(broken) });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(path.join(broken, 'providers', 'discord.json'));
    expect(r.stderr).toMatch(/not valid JSON/);
  });
});
