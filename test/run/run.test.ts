// `keygate run` end to end: the built CLI as a real process, real clients (curl, sh, Node) as its
// child, the Discord emulator as discord.com (KEYGATE_CONNECT_TO).
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import { bin, cliEnv, runCli, tempHome } from '../helpers/cli.js';
import { seedConnection } from '../helpers/seed.js';
import { header, startRecorder, testCa } from '../fixtures/servers.js';

const fixtures = path.resolve(import.meta.dirname, '..', 'fixtures');
const API = 'https://discord.com/api/v10/users/@me';

let emulator: Emulator;
let home: string;
let env: NodeJS.ProcessEnv;
let upstreamCa: Awaited<ReturnType<typeof testCa>>;
const secrets: string[] = [];
let defaultTokenId: string;
let workTokenId: string;

async function seed(target: string, connection: string): Promise<string> {
  const tokens = await seedConnection(emulator, target, connection);
  secrets.push(tokens.access_token, tokens.refresh_token);
  return tokens.access_token;
}

function run(args: string[], extraEnv: NodeJS.ProcessEnv = {}) {
  return runCli(['run', ...args], { env: { ...env, ...extraEnv }, timeoutMs: 20_000 });
}

beforeAll(async () => {
  home = tempHome();
  homes.push(home);
  emulator = await startEmulator({ dir: path.join(home, 'emulator') });
  upstreamCa = await testCa(home);
  // keygate must trust the emulator; the child's curl must also trust the "other host" servers.
  const trust = path.join(home, 'trust.pem');
  fs.writeFileSync(trust, `${emulator.caCertPem}\n${upstreamCa.certPem}`);
  env = cliEnv(home, { KEYGATE_CONNECT_TO: emulator.connectTo, NODE_EXTRA_CA_CERTS: trust });
  await seed(home, 'default');
  await seed(home, 'work');
  const echo = async (placeholderVar: string, connection: string[]) => {
    const res = await run([
      ...connection,
      '--',
      'sh',
      '-c',
      `curl -sS -X POST -H "Authorization: Bearer $${placeholderVar}" https://discord.com/api/v10/__echo`,
    ]);
    return (JSON.parse(res.stdout) as { token_id: string }).token_id;
  };
  [defaultTokenId, workTokenId] = await Promise.all([
    echo('DISCORD_ACCESS_TOKEN', []),
    echo('DISCORD_ACCESS_TOKEN_WORK', ['--connection', 'discord/work']),
  ]);
}, 30_000);

const homes: string[] = [];

/** Host pids of the trap-signal fixtures started with `marker` (not keygate, bwrap or env, whose argv holds it too). */
function processesWith(marker: string): number[] {
  return fs
    .readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        return argv[1]?.endsWith('trap-signal.mjs') && argv[2] === marker;
      } catch {
        return false;
      }
    })
    .map(Number);
}
afterAll(async () => {
  await emulator?.stop();
  for (const dir of homes) fs.rmSync(dir, { recursive: true, force: true });
});

describe('real clients under keygate run', () => {
  // Each client with and without the placeholder: test/run/clients.test.ts.
  it('streams a 5 MB upload (curl sends Expect: 100-continue)', async () => {
    // Outside KEYGATE_HOME, which the sandbox hides from the command.
    const dir = tempHome('keygate-upload-');
    homes.push(dir);
    const file = path.join(dir, 'upload.bin');
    const payload = randomBytes(5 * 1024 * 1024);
    fs.writeFileSync(file, payload);
    const res = await run([
      '--',
      'curl',
      '-sS',
      '-X',
      'POST',
      '--data-binary',
      `@${file}`,
      '-H',
      'Content-Type: application/octet-stream',
      'https://discord.com/api/v10/__echo',
    ]);
    const echo = JSON.parse(res.stdout) as { bytes: number; sha256: string; token_id: string };
    expect(echo.bytes).toBe(payload.length);
    expect(echo.sha256).toBe(createHash('sha256').update(payload).digest('hex'));
    expect(echo.token_id).toBe(defaultTokenId);
  });

  it('--connection discord/work: $DISCORD_ACCESS_TOKEN_WORK gets the work token', () => {
    expect(workTokenId).toBeDefined();
    expect(workTokenId).not.toBe(defaultTokenId);
  });

  it('another host gets the placeholder, never the token, over CONNECT and plain HTTP', async () => {
    const tunnelled = await startRecorder({ tls: await upstreamCa.issue(['localhost']) });
    const plain = await startRecorder();
    try {
      const res = await run([
        '--',
        'sh',
        '-c',
        `curl -sS -o /dev/null -H "Authorization: Bearer $DISCORD_ACCESS_TOKEN" https://localhost:${tunnelled.port}/a && ` +
          `curl -sS -o /dev/null -H "Authorization: Bearer $DISCORD_ACCESS_TOKEN" http://127.0.0.1:${plain.port}/b && echo "$DISCORD_ACCESS_TOKEN"`,
      ]);
      expect(res.code).toBe(0);
      // Nothing of keygate's own reaches the terminal (http-proxy printed DEP0060 here on Node 24).
      expect(res.stderr).not.toMatch(/Warning|DEP0/);
      const placeholder = res.stdout.trim();
      expect(placeholder).toMatch(/^kgph_discord_default_[0-9a-f]{32}$/);
      expect(header(tunnelled.requests[0], 'authorization')).toEqual([`Bearer ${placeholder}`]);
      expect(header(plain.requests[0], 'authorization')).toEqual([`Bearer ${placeholder}`]);
      const seen = JSON.stringify([tunnelled.requests, plain.requests]);
      for (const secret of secrets) expect(seen).not.toContain(secret);
    } finally {
      await tunnelled.close();
      await plain.close();
    }
  });

  it('a local process without the run’s proxy credentials gets 407', async () => {
    const res = await run([
      '--',
      'sh',
      '-c',
      'curl -sS -o /dev/null -w "%{http_code}" --proxy "http://${HTTPS_PROXY##*@}" http://example.test/',
    ]);
    expect(res.stdout).toBe('407');
  });
});

describe('the child', () => {
  it('has no real secret in its environment (read from /proc/<pid>/environ)', async () => {
    const res = await run(['--', 'sh', '-c', 'tr "\\0" "\\n" < /proc/$$/environ'], {
      DISCORD_CLIENT_SECRET: 'client-secret-SECRET-value',
      LEAKED_TOKEN: secrets[0],
      HTTPS_PROXY: 'http://inherited:3128',
      NO_PROXY: 'localhost,discord.com',
    });
    expect(res.code).toBe(0);
    const childEnv = Object.fromEntries(
      res.stdout
        .trim()
        .split('\n')
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    for (const secret of [...secrets, 'client-secret-SECRET-value']) expect(res.stdout).not.toContain(secret);
    expect(childEnv.DISCORD_CLIENT_SECRET).toBeUndefined();
    expect(childEnv.LEAKED_TOKEN).toBeUndefined();
    expect(res.stderr).toContain('removed $LEAKED_TOKEN');
    expect(childEnv.DISCORD_ACCESS_TOKEN).toMatch(/^kgph_discord_default_/);
    expect(childEnv.HTTPS_PROXY).toMatch(/^http:\/\/keygate:[^@]+@127\.0\.0\.1:\d+$/);
    expect(childEnv.https_proxy).toBe(childEnv.HTTPS_PROXY);
    expect(childEnv.NO_PROXY).toBe('localhost');
    expect(childEnv.KEYGATE_RUN).toBe('1');
    expect(childEnv.NODE_OPTIONS).toMatch(/--require ".*preload\.cjs"$/);
    for (const name of ['SSL_CERT_FILE', 'REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE', 'GIT_SSL_CAINFO'])
      expect(childEnv[name]).toMatch(/ca-bundle\.pem$/);
    expect(childEnv.KEYGATE_CA_CERT).toMatch(/keygate-ca\.pem$/);
    expect(childEnv.WGETRC).toMatch(/wgetrc$/);
    expect(fs.existsSync(childEnv.SSL_CERT_FILE)).toBe(false); // removed on exit
  });

  it('passes exit codes through, 128+signal when the child is killed', async () => {
    expect((await run(['--', 'sh', '-c', 'exit 7'])).code).toBe(7);
    expect((await run(['--', 'sh', '-c', 'kill -TERM $$'])).code).toBe(143);
  });

  it('forwards signals, exits with the child’s code on SIGTERM, leaves no child and no temp files', async () => {
    // The fixture's own pid is the sandbox's (its PID namespace): find it on the host by a marker.
    const marker = `trap-${randomBytes(8).toString('hex')}`;
    const child: ChildProcess = spawn(
      process.execPath,
      [bin, 'run', '--', process.execPath, path.join(fixtures, 'trap-signal.mjs'), marker],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    const waitFor = (text: string) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (!stdout.includes(text)) return;
          child.stdout!.off('data', check);
          resolve();
        };
        child.stdout!.on('data', check);
        check();
      });
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    await waitFor('\n');
    const [, , bundle] = stdout.split('\n')[0].split(' ');
    expect(processesWith(marker)).toHaveLength(1);
    // While the run lives: a bundle of the system roots and keygate's CA.
    const bundleText = fs.readFileSync(bundle, 'utf8');
    expect(bundleText).toContain(fs.readFileSync(path.join(home, 'proxy', 'ca.pem'), 'utf8').trim());
    expect(bundleText.split('BEGIN CERTIFICATE').length).toBeGreaterThan(100);
    for (const signal of ['SIGUSR1', 'SIGUSR2', 'SIGHUP', 'SIGINT', 'SIGQUIT'] as const) {
      child.kill(signal);
      await waitFor(`got ${signal}`);
    }
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(42);
    expect(stdout).toContain('got SIGTERM');
    expect(fs.existsSync(path.dirname(bundle))).toBe(false);
    expect(processesWith(marker)).toEqual([]);
  });

  it('a Ctrl-C in a terminal reaches the child once (the terminal signals the whole process group)', async () => {
    // script(1) gives keygate a real pseudo-terminal as its controlling terminal, with keygate and
    // the child in its foreground process group; the ^C byte written to it becomes SIGINT there.
    const command = [process.execPath, bin, 'run', '--', process.execPath, path.join(fixtures, 'count-sigint.mjs')]
      .map((a) => `'${a}'`)
      .join(' ');
    const term = spawn('script', ['-qfec', `exec ${command}`, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    term.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    await new Promise<void>((resolve) => {
      const check = () => out.includes('ready') && resolve();
      term.stdout.on('data', check);
    });
    term.stdin.write('\x03');
    const code = await new Promise<number | null>((resolve) => term.once('exit', resolve));
    term.stdin.end();
    expect(out).toContain('SIGINT x1');
    expect(out).not.toContain('SIGINT x2');
    expect(code).toBe(0);
  });

  it('a SIGINT sent to keygate alone (no terminal) is forwarded to the child', async () => {
    const child = spawn(process.execPath, [bin, 'run', '--', process.execPath, path.join(fixtures, 'count-sigint.mjs')], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    await new Promise<void>((resolve) => child.stdout.on('data', () => out.includes('ready') && resolve()));
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(out).toContain('SIGINT x1');
    expect(code).toBe(0);
  });

  it('keeps the terminal: stdin and stdout are a TTY and /dev/tty opens (script(1) provides the pty)', async () => {
    const inner = `${JSON.stringify(process.execPath)} ${JSON.stringify(bin)} run -- sh -c 'test -t 0 && test -t 1 && echo tty-ok; echo devtty-ok > /dev/tty'`;
    const res = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn('script', ['-qec', inner, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
      child.on('close', (code) => resolve({ code, out }));
    });
    expect(res.out).toContain('tty-ok');
    expect(res.out).toContain('devtty-ok');
    expect(res.code).toBe(0);
  });

  it('refuses to nest inside another keygate run unless --allow-nested (which needs the vault: --no-sandbox)', async () => {
    const inner = `${JSON.stringify(process.execPath)} ${JSON.stringify(bin)} run`;
    const script = `${inner} -- true; echo "nested exit $?"; ${inner} --allow-nested -- sh -c 'echo inner $DISCORD_ACCESS_TOKEN'; echo "allowed exit $?"`;
    const res = await run(['--no-sandbox', '--', 'sh', '-c', script]);
    expect(res.stderr).toContain('keygate: this is already running inside `keygate run`');
    expect(res.stdout).toContain('nested exit 2');
    expect(res.stdout).toMatch(/inner kgph_discord_default_/);
    // In the sandbox, the inner keygate finds an empty KEYGATE_HOME: nothing to run with.
    const sandboxed = await run(['--', 'sh', '-c', script]);
    expect(sandboxed.stdout).toContain('nested exit 2');
    expect(sandboxed.stdout).toContain('allowed exit 3');
    expect(sandboxed.stderr).toContain('keygate: no connected credential to run with');
  });
});

describe('errors and the log', () => {
  it('refuses without any credential (exit 3, login hint) and with a bad --connection (exit 2)', async () => {
    const empty = tempHome();
    homes.push(empty);
    const none = await runCli(['run', '--', 'true'], { env: cliEnv(empty) });
    expect(none.code).toBe(3);
    expect(none.stderr).toBe('keygate: no connected credential to run with — run `keygate login discord`\n');
    const bad = await run(['--connection', 'discord', '--', 'true']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('got `discord`');
    const missing = await run(['--', 'no-such-command-keygate']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('command not found: no-such-command-keygate');
  });

  it('--verbose prints each request; `keygate log` shows them without secrets', async () => {
    const res = await run(['--verbose', '--', 'curl', '-sS', '-o', '/dev/null', `${API}?with_counts=true`]);
    expect(res.stderr).toMatch(/GET discord\.com\/api\/v10\/users\/@me\?with_counts=… → 200 discord\/default \d+ ms/);
    expect(res.stderr).toContain('On discord.com: a placeholder in Authorization');
    const log = await runCli(['log', '--json', '--limit', '3'], { env });
    const { entries } = JSON.parse(log.stdout) as { entries: Array<Record<string, unknown>> };
    expect(entries).toHaveLength(3);
    expect(entries.at(-1)).toMatchObject({
      method: 'GET',
      host: 'discord.com',
      path: '/api/v10/users/@me?with_counts=…',
      status: 200,
      connection: 'default',
    });
    const human = await runCli(['log'], { env });
    expect(human.stdout).toMatch(/^TIME\s+METHOD\s+URL/);
    const file = fs.readFileSync(path.join(home, 'logs', 'requests.jsonl'), 'utf8');
    expect(fs.statSync(path.join(home, 'logs', 'requests.jsonl')).mode & 0o777).toBe(0o600);
    for (const secret of secrets) expect(file).not.toContain(secret);
    expect(file).not.toContain('kgph_');
  });
});
