// The five ways a child of `keygate run` took the real Discord token (issue 11), tried again: each
// fails under the default sandbox, and each is shown to SUCCEED with --no-sandbox in the same test,
// so none of these checks can pass vacuously. Plus the terminal (TIOCSTI) and the D-Bus session bus.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openVault } from '../../src/vault/index.js';
import { bin, runCli, tempHome } from '../helpers/cli.js';
import { type Session, startSession } from '../helpers/session.js';

const fixtures = path.resolve(import.meta.dirname, '..', 'fixtures');
const PASSPHRASE = `passphrase-${randomBytes(8).toString('hex')}`;
const CLIENT_SECRET = `client-secret-${randomBytes(8).toString('hex')}`;
const keygate = `${JSON.stringify(process.execPath)} ${JSON.stringify(bin)}`;

let session: Session;
let home: string;
let env: NodeJS.ProcessEnv;
let token: string;
const dirs: string[] = [];

beforeAll(async () => {
  session = await startSession();
  home = tempHome();
  dirs.push(home);
  expect((await session.login(home)).code).toBe(0);
  env = session.envFor(home, { KEYGATE_PASSPHRASE: PASSPHRASE, DISCORD_CLIENT_SECRET: CLIENT_SECRET });
  token = (await runCli(['get', 'discord', '--field', 'access_token', '--reveal'], { env })).stdout.trim();
  expect(token).toMatch(/^[A-Za-z0-9]{30}$/);
}, 60_000);

afterAll(async () => {
  await session?.close();
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** The same script under the default sandbox and with --no-sandbox. */
async function both(script: string, extraEnv: NodeJS.ProcessEnv = {}) {
  const run = (flags: string[]) => runCli(['run', ...flags, '--', 'sh', '-c', script], { env: { ...env, ...extraEnv }, timeoutMs: 60_000 });
  const [sandboxed, open] = await Promise.all([run([]), run(['--no-sandbox'])]);
  return { sandboxed, open };
}

describe('the five paths to the real token', () => {
  it('1. `keygate get discord --field access_token --reveal` from inside the run', async () => {
    const { sandboxed, open } = await both(`${keygate} get discord --field access_token --reveal; echo "exit $?"`);
    expect(open.stdout).toContain(token);
    expect(sandboxed.stdout).not.toContain(token);
    expect(sandboxed.stdout).toContain('exit 3'); // an empty KEYGATE_HOME: not connected
  });

  it('2. reading the master key file and decrypting the records', async () => {
    const loot = { sandboxed: tempHome('keygate-loot-'), open: tempHome('keygate-loot-') };
    dirs.push(loot.sandboxed, loot.open);
    const script = 'wc -c < "$KEYGATE_HOME/vault/master.key"; cp -r "$KEYGATE_HOME/vault" "$LOOT/" && echo copied';
    const run = (flags: string[], dir: string) =>
      runCli(['run', ...flags, '--', 'sh', '-c', script], { env: { ...env, LOOT: dir }, timeoutMs: 60_000 });
    const [sandboxed, open] = await Promise.all([run([], loot.sandboxed), run(['--no-sandbox'], loot.open)]);
    const decrypt = async (dir: string) => {
      const vault = await openVault({ home: dir, env: { KEYGATE_KEY_BACKEND: 'keyfile' }, stderr: () => undefined, keychain: null });
      return (await vault.read('discord', 'default'))?.tokens.access_token;
    };
    expect(open.stdout).toContain('copied');
    expect(await decrypt(loot.open)).toBe(token);
    expect(sandboxed.stderr).toMatch(/cannot open \S*master\.key: No such file/);
    expect(fs.readdirSync(loot.sandboxed)).toEqual([]);
  });

  it('3. /proc/<keygate>/environ: KEYGATE_PASSPHRASE and DISCORD_CLIENT_SECRET', async () => {
    const script = `cat /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n' | grep -a -e '${PASSPHRASE}' -e '${CLIENT_SECRET}' | sort -u; echo done`;
    const { sandboxed, open } = await both(script);
    expect(open.stdout).toContain(`KEYGATE_PASSPHRASE=${PASSPHRASE}`);
    expect(open.stdout).toContain(`DISCORD_CLIENT_SECRET=${CLIENT_SECRET}`);
    expect(sandboxed.stdout).toBe('done\n');
  });

  it('4. /proc/<keygate>/mem: the token in keygate’s heap', async () => {
    // One injected request first, so the proxy holds "Bearer <token>".
    const script = `curl -sS -o /dev/null https://discord.com/api/v10/users/@me && python3 ${JSON.stringify(path.join(fixtures, 'attack-memory.py'))}`;
    const { sandboxed, open } = await both(script);
    expect(open.stdout).toContain(`found ${token}`);
    expect(sandboxed.stdout).toContain('keygate pids: none');
    expect(sandboxed.stdout).not.toContain(token);
    expect(sandboxed.code).toBe(0);
  }, 60_000);

  it('5. writing $KEYGATE_HOME/providers/discord.json to send the token to another host', async () => {
    const file = path.join(home, 'providers', 'discord.json');
    const script = `mkdir -p "$KEYGATE_HOME/providers" && echo '{"api":{"hosts":["discord.com","evil.example"]}}' > "$KEYGATE_HOME/providers/discord.json" && echo written`;
    const sandboxed = await runCli(['run', '--', 'sh', '-c', script], { env, timeoutMs: 20_000 });
    expect(sandboxed.stdout).toBe('written\n'); // into the sandbox's tmpfs, gone with it
    expect(fs.existsSync(file)).toBe(false);
    const inspect = async () =>
      (JSON.parse((await runCli(['providers', 'inspect', 'discord'], { env })).stdout) as { api: { hosts: string[] } }).api.hosts;
    expect(await inspect()).toEqual(['discord.com']);

    const open = await runCli(['run', '--no-sandbox', '--', 'sh', '-c', script], { env, timeoutMs: 20_000 });
    try {
      expect(open.stdout).toBe('written\n');
      expect(await inspect()).toEqual(['discord.com', 'evil.example']);
      // Even then, the credential stays bound to what login recorded (test/security/binding.test.ts
      // shows the request to evil.example getting nothing until `providers trust`):
      const next = await runCli(['run', '--', 'true'], { env, timeoutMs: 20_000 });
      expect(next.stderr).toContain('differs from where discord/default was bound at login (+evil.example)');
    } finally {
      fs.rmSync(file, { force: true });
    }
  });
});

describe('the sandbox’s other doors', () => {
  it('TIOCSTI: the command cannot type into its controlling terminal', async () => {
    // A pty of the command's own, made its controlling terminal, so TIOCSTI is allowed by the kernel
    // without privileges (dev.tty.legacy_tiocsti = 1 here); only keygate's seccomp filter stops it.
    const script = `python3 -c '
import fcntl, os, termios
master, slave = os.openpty()
pid = os.fork()
if pid == 0:
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    try:
        fcntl.ioctl(slave, termios.TIOCSTI, b"x")
        os.write(1, b"injected\\n")
    except OSError as err:
        os.write(1, ("refused errno %d\\n" % err.errno).encode())
    os._exit(0)
os.waitpid(pid, 0)
'`;
    const { sandboxed, open } = await both(script);
    expect(fs.readFileSync('/proc/sys/dev/tty/legacy_tiocsti', 'utf8').trim()).toBe('1');
    expect(open.stdout).toBe('injected\n');
    expect(sandboxed.stdout).toBe('refused errno 1\n');
  });

  it('the D-Bus session bus (the keychain) cannot be reached', async () => {
    const dir = tempHome('keygate-bus-');
    dirs.push(dir);
    const socket = path.join(dir, 'bus');
    const daemon: ChildProcess = spawn('dbus-daemon', ['--session', '--nofork', `--address=unix:path=${socket}`, '--print-address=1'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        daemon.stdout!.once('data', () => resolve());
        daemon.once('exit', (code) => reject(new Error(`dbus-daemon exited ${code}`)));
      });
      const script = `python3 -c '
import os, socket
s = socket.socket(socket.AF_UNIX)
try:
    s.connect(os.environ["DBUS_SESSION_BUS_ADDRESS"].split("path=")[1].split(",")[0])
    print("connected")
except OSError as err:
    print("refused", err.strerror)
'`;
      const { sandboxed, open } = await both(script, { DBUS_SESSION_BUS_ADDRESS: `unix:path=${socket}` });
      expect(open.stdout).toBe('connected\n');
      expect(sandboxed.stdout).toMatch(/^refused /);
    } finally {
      daemon.kill();
    }
  });

  it('`keygate config set run.sandbox off` turns it off; --sandbox still wins', async () => {
    const script = 'test -r "$KEYGATE_HOME/vault/master.key" && echo readable || echo hidden';
    expect((await runCli(['config', 'set', 'run.sandbox', 'off'], { env })).code).toBe(0);
    try {
      expect((await runCli(['run', '--', 'sh', '-c', script], { env })).stdout).toBe('readable\n');
      expect((await runCli(['run', '--sandbox', '--', 'sh', '-c', script], { env })).stdout).toBe('hidden\n');
    } finally {
      expect((await runCli(['config', 'unset', 'run.sandbox'], { env })).code).toBe(0);
    }
    expect((await runCli(['run', '--', 'sh', '-c', script], { env })).stdout).toBe('hidden\n');
  });

  it('--sandbox refuses to run without one; without bwrap the default warns in one line', async () => {
    const noBwrap = { PATH: '/nonexistent-keygate-path', KEYGATE_CONNECT_TO: env.KEYGATE_CONNECT_TO };
    const demanded = await runCli(['run', '--sandbox', '--', '/bin/true'], { env: { ...env, ...noBwrap } });
    expect(demanded.code).toBe(1);
    expect(demanded.stderr).toBe(
      'keygate: --sandbox: bubblewrap (bwrap) is not installed — install it, e.g. `apt-get install bubblewrap` or `dnf install bubblewrap`\n',
    );
    const warned = await runCli(['run', '--', '/bin/true'], { env: { ...env, ...noBwrap } });
    expect(warned.code).toBe(0);
    expect(warned.stderr.trim().split('\n')).toEqual([
      "keygate: no sandbox: bubblewrap (bwrap) is not installed, so the command can read KEYGATE_HOME (the vault and its key file), keygate's memory and the keychain — install it, e.g. `apt-get install bubblewrap` or `dnf install bubblewrap`, or pass --no-sandbox to silence this",
    ]);
    const silenced = await runCli(['run', '--no-sandbox', '--', '/bin/true'], { env: { ...env, ...noBwrap } });
    expect(silenced.stderr).toBe('');
  });
});
