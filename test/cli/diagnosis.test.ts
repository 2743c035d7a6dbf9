// Issue 16, "wrong diagnosis": each finding reproduced through the real CLI, with the message and the
// exit code asserted, and the suggested way forward run and shown to work.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_CLIENT_ID } from '../../src/emulator/fixtures.js';
import { bin, cliEnv, runCli, tempHome } from '../helpers/cli.js';
import { startSession, type Session } from '../helpers/session.js';
import { freePort } from '../helpers/browser.js';

let session: Session;
beforeAll(async () => {
  session = await startSession();
});
afterAll(() => session.close());

describe('network diagnoses', () => {
  it('an untrusted certificate names the CA setting, not the network', async () => {
    const home = tempHome();
    const env = session.envFor(home, { NODE_EXTRA_CA_CERTS: undefined });
    const r = await runCli(['login', 'discord', '--no-browser', '--port', String(await freePort())], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'keygate: client credentials check at discord.com failed: UNABLE_TO_VERIFY_LEAF_SIGNATURE — ' +
        "the server's certificate is not signed by a CA this machine trusts; for a local emulator or a TLS-inspecting proxy, set NODE_EXTRA_CA_CERTS to its CA file (`keygate emulator` prints it as `ca:`)\n",
    );
    expect(r.stderr).not.toContain('check your network');
    // The way forward: trust the emulator's CA, as the hint says.
    const fixed = await session.login(home);
    expect(fixed.code, fixed.stderr).toBe(0);
  });

  it('a malformed KEYGATE_CONNECT_TO is a usage error naming the entry', async () => {
    const home = tempHome();
    const env = session.envFor(home, { KEYGATE_CONNECT_TO: `discord.com:443:127.0.0.1,${session.emulator.connectTo}` });
    const r = await runCli(['login', 'discord', '--no-browser', '--port', String(await freePort())], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'keygate: KEYGATE_CONNECT_TO entry `discord.com:443:127.0.0.1` is not HOST:PORT:CONNECT_HOST:CONNECT_PORT — use e.g. KEYGATE_CONNECT_TO=discord.com:443:127.0.0.1:8443\n',
    );
    const fixed = await session.login(home);
    expect(fixed.code, fixed.stderr).toBe(0);
  });

  it('a wrong client id fails at once, before the browser step, naming the id', async () => {
    const home = tempHome();
    const started = Date.now();
    const r = await session.login(
      home,
      ['--timeout', '300'],
      async () => {
        throw new Error('the authorize URL must not be printed for a client Discord refuses');
      },
      { DISCORD_CLIENT_ID: '999999999999999999' },
    );
    expect(r.code).toBe(1);
    expect(Date.now() - started).toBeLessThan(60_000); // not the 300 s timeout
    expect(r.stderr).toBe(
      "keygate: Discord does not accept client id 999999999999999999 with this secret (invalid_client) — check DISCORD_CLIENT_ID and DISCORD_CLIENT_SECRET: they must be the client id and secret on your app's OAuth2 page\n",
    );
    expect(r.stdout).not.toContain('oauth2/authorize');
    const fixed = await session.login(home, [], undefined, { DISCORD_CLIENT_ID: DEMO_CLIENT_ID });
    expect(fixed.code, fixed.stderr).toBe(0);
  });
});

describe('advice that works', () => {
  it('the access_denied hint keeps --connection, and running it connects', async () => {
    const home = tempHome();
    session.emulator.controls.denyNextConsent();
    const denied = await session.login(home, ['--connection', 'work'], async (url) => {
      await session.browser.visit(await session.browser.authorize(url));
    });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(
      /^keygate: Discord did not authorize the login: access_denied .* — run `keygate login discord --connection work` again and approve access\n$/,
    );
    const again = await session.login(home, ['--connection', 'work']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('Connected discord/work as alice');
  });
});

describe('KEYGATE_HOME and provider files', () => {
  it('a KEYGATE_HOME that is a file is a usage error for list, status, get, run and login', async () => {
    const dir = tempHome();
    const file = path.join(dir, 'home-file');
    fs.writeFileSync(file, 'x');
    const message = `keygate: KEYGATE_HOME ${file} is not a directory — point KEYGATE_HOME at a directory (or unset it for the default)\n`;
    for (const args of [
      ['list'],
      ['status'],
      ['get', 'discord'],
      ['get', 'discord', '--field', 'status'],
      ['run', '--', 'true'],
      ['login', 'discord'],
    ]) {
      const r = await runCli(args, { env: session.envFor(file) });
      expect([args.join(' '), r.code, r.stderr]).toEqual([args.join(' '), 2, message]);
    }
    // The way forward: a directory.
    const r = await runCli(['list'], { env: session.envFor(dir) });
    expect(r.code).toBe(0);
  });

  it('providers validate on a directory says so (EISDIR), not "check its permissions"', async () => {
    const dir = tempHome();
    const r = await runCli(['providers', 'validate', dir], { env: cliEnv(tempHome()) });
    expect(r.code).toBe(4);
    expect(r.stderr).toBe(`keygate: ${dir} is a directory, not a provider file — name a .json file, e.g. providers/discord.json\n`);
  });

  it('a provider file with a UTF-8 byte-order mark is accepted', async () => {
    const home = tempHome();
    fs.mkdirSync(path.join(home, 'providers'));
    const file = path.join(home, 'providers', 'discord.json');
    fs.writeFileSync(file, `\uFEFF${JSON.stringify({ display_name: 'Discord (BOM)' })}`);
    const r = await runCli(['providers', 'validate', file], { env: cliEnv(home) });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const inspect = await runCli(['providers', 'inspect', 'discord'], { env: cliEnv(home) });
    expect(JSON.parse(inspect.stdout).display_name).toBe('Discord (BOM)');
  });

  it('a group- or world-writable KEYGATE_HOME is refused, and `chmod go-w` fixes it', async () => {
    const home = tempHome();
    await session.login(home);
    fs.chmodSync(home, 0o777);
    for (const args of [['list'], ['get', 'discord', '--field', 'status'], ['providers', 'list']]) {
      const r = await runCli(args, { env: session.envFor(home) });
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `keygate: KEYGATE_HOME ${home} is writable by everyone (mode 0777); keygate refuses it, as ssh does — run \`chmod go-w ${home}\`\n`,
      );
    }
    fs.chmodSync(home, 0o770);
    expect((await runCli(['list'], { env: session.envFor(home) })).stderr).toContain('writable by its group (mode 0770)');
    execFileSync('sh', ['-c', `chmod go-w ${home}`]);
    const r = await runCli(['get', 'discord', '--field', 'status'], { env: session.envFor(home) });
    expect([r.code, r.stdout]).toEqual([0, 'connected\n']);
  });

  it.runIf(process.getuid?.() === 0)('a KEYGATE_HOME owned by another user is refused', async () => {
    const home = tempHome();
    fs.chownSync(home, 12345, 12345);
    const r = await runCli(['list'], { env: session.envFor(home) });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `keygate: KEYGATE_HOME ${home} belongs to uid 12345, not to you (uid 0); keygate refuses it, as ssh does — use a directory you own (unset KEYGATE_HOME for the default), or run \`chown 0 ${home}\` as root\n`,
    );
    execFileSync('chown', ['0', home]);
    expect((await runCli(['list'], { env: session.envFor(home) })).code).toBe(0);
  });
});

describe('unreadable record file (EACCES)', () => {
  it('says which file and how to fix its mode, not "unexpected error"', async () => {
    const home = tempHome();
    await session.login(home);
    const file = path.join(home, 'vault', 'connections', 'discord', 'default.json');
    fs.chmodSync(file, 0o000);
    // root reads any file: run the CLI as an unprivileged user owning the home, as a user would be.
    const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : undefined;
    // The emulator's CA sits in a private temp dir: give that user a copy it can read.
    const ca = path.join(home, 'emulator-ca.pem');
    fs.copyFileSync(session.emulator.caPath, ca);
    if (asUser) execFileSync('chown', ['-R', `${asUser.uid}:${asUser.gid}`, home]);
    const cli = (args: string[]) => runAs(args, session.envFor(home, { NODE_EXTRA_CA_CERTS: ca }), asUser);
    const r = await cli(['get', 'discord', '--json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `keygate: cannot read discord/default: ${file} is not readable by you (permission denied) — run \`chmod 600 ${file}\`\n`,
    );
    const list = await cli(['list']);
    expect(list.stdout).toMatch(/discord\s+default\s+unreadable/);
    expect(list.stdout).toContain(`run \`chmod 600 ${file}\``);
    const status = await cli(['status']);
    expect(status.code).toBe(5);
    expect(status.stdout).toMatch(/discord\s+default\s+unreadable/);
    // The way forward, run as that user.
    execFileSync('sh', ['-c', `chmod 600 ${file}`], asUser);
    const fixed = await cli(['status']);
    expect([fixed.code, fixed.stdout]).toEqual([0, expect.stringMatching(/discord\s+default\s+connected/)]);
  });
});

describe('Ctrl-C at a prompt', () => {
  it('exits 130 quietly at the client id prompt and at the secret prompt', async () => {
    for (const answers of ['', '123\r']) {
      const home = tempHome();
      const r = await inTerminal(['login', 'discord', '--no-browser', '--port', String(await freePort())], cliEnv(home), answers);
      expect(r.code).toBe(130);
      expect(r.output).not.toMatch(/unexpected error|report it|keygate:/);
    }
  });
});

function runAs(
  args: string[],
  env: NodeJS.ProcessEnv,
  as?: { uid: number; gid: number },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  if (!as) return runCli(args, { env });
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env, uid: as.uid, gid: as.gid, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Runs the CLI on a pseudo-terminal (util-linux `script`), types `answers`, waits for the prompt and
 * sends Ctrl-C (0x03), which the prompt library reads in raw mode. Returns the CLI's exit code.
 */
function inTerminal(args: string[], env: NodeJS.ProcessEnv, answers: string): Promise<{ code: number | null; output: string }> {
  const command = [process.execPath, bin, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qefc', command, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    let typed = false;
    let interrupted = false;
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (!typed && output.includes('client ID')) {
        typed = true;
        child.stdin.write(answers);
      }
      const waiting = answers === '' ? output.includes('client ID') : output.includes('client secret');
      if (typed && waiting && !interrupted) {
        interrupted = true;
        setTimeout(() => child.stdin.write('\x03'), 100);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}
