#!/usr/bin/env node
// `npm run bench`: what a user of `keygate run` feels, measured on loopback against the Discord
// emulator (its own process, standing in for discord.com). Prints a table and writes
// bench/results.json. Needs a build (the npm script runs tsc first). `--quick`: one short round of
// everything, to check the bench itself works. KEYGATE_BENCH_CPU_PROF=<dir>: CPU profiles of keygate.
// KEYGATE_BENCH_BIN=<path>: another build's bin/keygate.js. MITMDUMP=<path>: another mitmdump.
//
//   throughput  GET /api/v10/users/@me over kept-alive HTTPS (and over new connections), direct vs
//               through a real `keygate run` vs the floor (bench/floor-relay.js: the smallest
//               TLS-terminating relay on Node's HTTP machinery) vs mitmproxy (if mitmdump is installed)
//   start-up    `keygate get --field status` and `keygate run -- true` against `node -e 0` and `true`;
//               cold `keygate call discord get_my_user` (a real call to the emulator) against `node -e 0`
//               with the same environment (NODE_EXTRA_CA_CERTS costs Node itself ~35 ms);
//               what the sandbox adds: `run -- true` vs `run --no-sandbox -- true`, and bwrap alone
//   refresh     32 concurrent requests arriving as the access token goes stale
//   memory      the `keygate run` process's peak RSS after 32 concurrent connections
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, printReport } from './report.js';
import { bwrapCommand } from '../dist/sandbox/bwrap.js';
import { probeSandbox } from '../dist/sandbox/probe.js';
import { adminClient, firstLine, seedConnection } from './emulator-client.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// KEYGATE_BENCH_BIN=<path>: measure another build's CLI (e.g. a checkout of an older commit).
const bin = path.resolve(process.env.KEYGATE_BENCH_BIN ?? path.join(root, 'bin', 'keygate.js'));
const quick = process.argv.includes('--quick');
const began = performance.now();
const children = new Set();
process.on('exit', () => {
  for (const child of children) child.kill('SIGTERM');
});

const SCENARIOS = [
  { name: 'sequential', concurrency: 1, requests: 1000, rounds: 7 },
  { name: '8 connections', concurrency: 8, requests: 2000, rounds: 7 },
  { name: '32 connections', concurrency: 32, requests: 2000, rounds: 7 },
  { name: 'new connection per request', concurrency: 1, requests: 100, rounds: 3, fresh: true },
].map((s) => (quick ? { ...s, requests: Math.ceil(s.requests / 10), rounds: 1 } : s));
const STARTUP_RUNS = quick ? 3 : 15;

// The bench's files (client configs, the token file for the direct runs, the emulator's CA) sit in
// `work`; KEYGATE_HOME is a directory inside it, which `keygate run`'s sandbox hides from the client.
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'keygate-bench-'));
const home = path.join(work, 'home');
fs.mkdirSync(home, { mode: 0o700 });
try {
  await main();
} finally {
  for (const child of children) child.kill('SIGTERM');
  fs.rmSync(work, { recursive: true, force: true });
}

async function main() {
  const emulatorProcess = track(
    spawn(process.execPath, [path.join(root, 'bench', 'emulator.js'), path.join(work, 'emulator')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  );
  const emulator = JSON.parse(await firstLine(emulatorProcess.stdout));
  const admin = adminClient(emulator);
  const env = {
    PATH: process.env.PATH,
    HOME: home,
    KEYGATE_HOME: home,
    KEYGATE_KEY_BACKEND: 'keyfile',
    KEYGATE_CONNECT_TO: emulator.connectTo,
    NODE_EXTRA_CA_CERTS: emulator.caPath,
  };
  const { openVault } = await import('../dist/vault/index.js');
  const { DEMO_CLIENT_ID, DEMO_CLIENT_SECRET } = await import('../dist/emulator/index.js');
  const vault = await openVault({ home, env, stderr: () => undefined });
  await vault.writeClient('discord', { client_id: DEMO_CLIENT_ID, client_secret: DEMO_CLIENT_SECRET });
  /** A new authorization at the emulator, stored as discord/default with the given lifetime. */
  const seed = async (createdAt, expiresAt) => (await seedConnection(admin, vault, { createdAt, expiresAt })).access_token;
  const token = await seed(Date.now(), Date.now() + 86_400_000);
  const tokenFile = path.join(work, 'bench-token');
  fs.writeFileSync(tokenFile, token, { mode: 0o600 });

  const floorProcess = track(
    spawn(process.execPath, [path.join(root, 'bench', 'floor-relay.js'), work, String(emulator.port), emulator.caPath, tokenFile], {
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  );
  const floor = JSON.parse(await firstLine(floorProcess.stdout));
  const mitm = await startMitmproxy(emulator, token);
  const results = {
    date: new Date().toISOString(),
    machine: machine(mitm),
    quick,
    throughput: undefined,
    startup: undefined,
    refresh: undefined,
    memory: undefined,
  };

  log('throughput (direct, keygate run, floor relay' + (mitm ? ', mitmproxy' : '') + ')');
  const config = {
    tokenFile,
    emulatorCaPath: emulator.caPath,
    emulatorPort: emulator.port,
    scenarios: SCENARIOS,
    floor,
    mitm: mitm && { url: mitm.url, caPath: mitm.caPath, pid: mitm.pid, share: 0.25 },
  };
  const throughput = await runClient(env, 'throughput', config);
  results.throughput = throughput.scenarios;
  results.memory = { keygate: throughput.memory, mitmproxy: mitm ? processMemory(mitm.pid) : undefined };

  log('start-up');
  // As a user runs them: neither command needs the emulator, and NODE_EXTRA_CA_CERTS alone costs
  // Node 20 ~35 ms at start-up (it builds the whole root store eagerly), which would blur the figures.
  const { NODE_EXTRA_CA_CERTS: _ca, KEYGATE_CONNECT_TO: _to, ...userEnv } = env;
  results.startup = startup(userEnv, env);
  results.sandbox = await sandboxSpawn(userEnv);

  log('refresh under load');
  // Stale in 3 s (a tenth of the lifetime before expiry, so 6 s of a 60 s token): the client opens
  // 32 connections, times bursts, then sends one burst just after the token went stale. Three
  // runs, each a new `keygate run`, as a refresh is a once-in-a-process event.
  results.refresh = [];
  for (let run = 0; run < (quick ? 1 : 3); run++) {
    const staleAt = Date.now() + 3000;
    await seed(staleAt - 54_000, staleAt + 6000);
    const before = await admin('GET', '/__emulator/counters');
    const refresh = await runClient(env, 'refresh', { ...config, refresh: { connections: 32, staleAt } });
    const after = await admin('GET', '/__emulator/counters');
    results.refresh.push({
      ...refresh,
      refreshes: after.refreshes - before.refreshes,
      invalidGrants: after.invalidGrants - before.invalidGrants,
    });
  }

  results.seconds = (performance.now() - began) / 1000;
  fs.writeFileSync(path.join(root, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  printReport(results, (line) => process.stdout.write(`${line}\n`));
  if (!mitm) process.stdout.write('\nmitmproxy: skipped, mitmdump not found (apt-get install mitmproxy, or set MITMDUMP=<path>)\n');
}

/** `keygate run -- node bench/client.js <mode> <config>`: the client's JSON answer. */
async function runClient(env, mode, config) {
  const file = path.join(work, `bench-${mode}.json`);
  fs.writeFileSync(file, JSON.stringify(config));
  // KEYGATE_BENCH_CPU_PROF=<dir>: a V8 CPU profile of the keygate process (the proxy), for `node --cpu-prof` tooling.
  const profile = process.env.KEYGATE_BENCH_CPU_PROF
    ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(process.env.KEYGATE_BENCH_CPU_PROF)}`]
    : [];
  // --no-sandbox: the client charges each proxy (keygate, the floor relay, mitmdump) its CPU through
  // /proc/<pid>, which the sandbox's PID namespace hides; the proxy path is the same either way.
  const child = track(
    spawn(
      process.execPath,
      [...profile, bin, 'run', '--no-sandbox', '--', process.execPath, path.join(root, 'bench', 'client.js'), mode, file],
      { env, stdio: ['ignore', 'pipe', 'inherit'] },
    ),
  );
  let out = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  const code = await new Promise((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`keygate run -- bench/client.js ${mode} exited with ${code}`);
  return JSON.parse(out.trim().split('\n').pop());
}

/** Wall time of each command, medians of STARTUP_RUNS runs taken in turn (after a warm-up run each). */
function startup(env, emulatorEnv) {
  const node = process.execPath;
  const commands = [
    { name: 'true', argv: ['true'] },
    { name: 'node -e 0', argv: [node, '-e', '0'] },
    { name: 'keygate get discord --field status', argv: [node, bin, 'get', 'discord', '--field', 'status'] },
    { name: 'keygate run -- true', argv: [node, bin, 'run', '--', 'true'] },
    { name: 'keygate run --no-sandbox -- true', argv: [node, bin, 'run', '--no-sandbox', '--', 'true'] },
    // A whole tool call, as an agent's shell makes it: start-up, vault, one HTTPS request, JSON out.
    { name: 'node -e 0 (emulator env)', argv: [node, '-e', '0'], env: emulatorEnv },
    {
      name: 'keygate call discord get_my_user',
      argv: [node, bin, 'call', 'discord', 'get_my_user'],
      env: emulatorEnv,
      baseline: 'node -e 0 (emulator env)',
    },
  ];
  // The sandbox on its own: the same bwrap command line keygate builds, around `true`.
  const bwrap = sandboxCommand(env);
  if (bwrap) commands.push({ name: "bwrap (keygate's flags) -- true", argv: bwrap });
  const times = commands.map(() => []);
  for (let run = -1; run < STARTUP_RUNS; run++) {
    commands.forEach((command, i) => {
      const started = process.hrtime.bigint();
      const result = spawnSync(command.argv[0], command.argv.slice(1), { env: command.env ?? env, stdio: ['ignore', 'pipe', 'pipe'] });
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (result.status !== 0) throw new Error(`${command.name} exited with ${result.status}: ${result.stderr}`);
      if (run >= 0) times[i].push(ms);
    });
  }
  return commands.map((command, i) => ({ name: command.name, baseline: command.baseline, runs: times[i], median: median(times[i]) }));
}

/**
 * What the sandbox adds where keygate adds it: `runChild(['true'])` as `run` calls it, with keygate's
 * launch plan (bwrap, seccomp filter) and without, alternating, in this process. Whole-CLI timings
 * carry ~±100 ms of machine noise on a busy VM; this isolates the sandbox's share.
 */
async function sandboxSpawn(env) {
  const { runChild } = await import('../dist/run/child.js');
  const { planLaunch } = await import('../dist/sandbox/index.js');
  const probe = probeSandbox(env);
  if (!probe.ok) return undefined;
  const base = fs.mkdtempSync(path.join(work, 'spawn-'));
  const once = async (sandboxed) => {
    const runDir = fs.mkdtempSync(path.join(base, 'run-'));
    const started = performance.now();
    const launch = sandboxed ? planLaunch({ mode: 'require', command: ['true'], env, home, runtimeBase: base, runDir }) : undefined;
    const code = await runChild(['true'], { env, launch });
    if (code !== 0) throw new Error(`true exited ${code}${sandboxed ? ' in the sandbox' : ''}`);
    return performance.now() - started;
  };
  const runs = { sandboxed: [], direct: [] };
  for (let run = -1; run < STARTUP_RUNS * 2; run++) {
    const [a, b] = [await once(true), await once(false)];
    if (run >= 0) {
      runs.sandboxed.push(a);
      runs.direct.push(b);
    }
  }
  return {
    ...runs,
    sandboxedMedian: median(runs.sandboxed),
    directMedian: median(runs.direct),
    pairedMedian: median(runs.sandboxed.map((ms, i) => ms - runs.direct[i])),
  };
}

/** argv of keygate's own bwrap command around /usr/bin/true, or undefined when bwrap is unusable. */
function sandboxCommand(env) {
  const dir = fs.mkdtempSync(path.join(home, 'sandbox-bench-'));
  const probe = probeSandbox(env);
  if (!probe.ok) return undefined;
  const command = bwrapCommand(probe.bwrap, ['/usr/bin/true'], { home, runtimeBase: dir, runDir: dir, cwd: root }, env);
  return [command.file, ...command.args];
}

async function startMitmproxy(emulator, token) {
  // MITMDUMP=<path> picks another mitmdump (a pipx install); the one on PATH otherwise.
  const mitmdump = process.env.MITMDUMP ?? spawnSync('sh', ['-c', 'command -v mitmdump'], { encoding: 'utf8' }).stdout.trim();
  if (!mitmdump || !fs.existsSync(mitmdump)) return undefined;
  const port = await freePort();
  const confdir = path.join(work, 'mitmproxy');
  const args = [
    '-q',
    '--listen-host',
    '127.0.0.1',
    '--listen-port',
    String(port),
    '--set',
    `confdir=${confdir}`,
    '-s',
    path.join(root, 'bench', 'mitm-addon.py'),
    // Upstream TLS verified, against the emulator's CA (mitmproxy's default is to verify).
    '--set',
    `ssl_verify_upstream_trusted_ca=${emulator.caPath}`,
    // What keygate does, the mitmproxy way: set Authorization on every request.
    '--modify-headers',
    `/~q/Authorization/Bearer ${token}`,
  ];
  const child = track(
    spawn(mitmdump, args, {
      env: { ...process.env, KEYGATE_BENCH_EMULATOR_PORT: String(emulator.port) },
      stdio: ['ignore', 'ignore', 'inherit'],
    }),
  );
  const caPath = path.join(confdir, 'mitmproxy-ca-cert.pem');
  for (let waited = 0; !(fs.existsSync(caPath) && (await listening(port))); waited += 100) {
    if (waited > 20_000 || child.exitCode !== null) throw new Error('mitmdump did not start');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const version = execFileSync(mitmdump, ['--version'], { encoding: 'utf8' })
    .split('\n')[0]
    .replace(/^Mitmproxy:\s*/i, 'mitmproxy ')
    .trim();
  return { url: `http://127.0.0.1:${port}`, caPath, pid: child.pid, version };
}

function machine(mitm) {
  const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  return {
    nproc: os.availableParallelism(),
    cpu: /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    mitmproxy: mitm?.version,
  };
}

function processMemory(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
  return { pid, rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
}

function track(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

function listening(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

function log(text) {
  process.stderr.write(`bench: ${text} (${((performance.now() - began) / 1000).toFixed(0)} s)\n`);
}
