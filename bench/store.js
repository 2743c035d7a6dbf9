#!/usr/bin/env node
// `npm run bench:store`: what the store costs a token read and a refresh, the local file vault
// against a PostgreSQL store on loopback (a server of its own, started from the system's packages
// like the tests do). Prints a table and writes bench/store-results.json. `--quick`: a short round.
//
//   read        store.read(): the record, decrypted (what a stale-token check or `get --reveal` pays)
//   peek        store.peek(): the clear metadata only (`get --field status`, `list` without secrets)
//   update      store.update() with a callback that rewrites the tokens: the locked re-read + write a
//               refresh pays around its network call (lock, read, seal, write, release)
//   refresh     a real refresh (lifecycle refreshConnection) against the Discord emulator in this process
//   contended   8 updates of one connection at once, from 8 store objects (as 8 processes or hosts)
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './report.js';
import { adminClient, firstLine, seedConnection } from './emulator-client.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const quick = process.argv.includes('--quick');
const N = quick ? 50 : 500;
const REFRESHES = quick ? 10 : 60;
const CONTENDED_ROUNDS = quick ? 5 : 30;

// The measuring runs in a child process: Node reads NODE_EXTRA_CA_CERTS (the emulator's CA) only at start-up.
if (process.env.KEYGATE_BENCH_STORE) await measure(JSON.parse(process.env.KEYGATE_BENCH_STORE));
else await main();

async function main() {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'keygate-bench-store-'));
  const server = await startPostgres(work);
  const children = [];
  try {
    const emulatorProcess = spawn(process.execPath, [path.join(root, 'bench', 'emulator.js'), path.join(work, 'emulator')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(emulatorProcess);
    const emulator = JSON.parse(await firstLine(emulatorProcess.stdout));
    const measurer = spawn(process.execPath, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: {
        PATH: process.env.PATH,
        NODE_EXTRA_CA_CERTS: emulator.caPath,
        KEYGATE_CONNECT_TO: emulator.connectTo,
        KEYGATE_BENCH_STORE: JSON.stringify({ url: server.url, work, emulator }),
      },
    });
    children.push(measurer);
    const results = JSON.parse(await firstLine(measurer.stdout));
    results.machine.postgres = server.version;
    print(results);
    if (!quick) fs.writeFileSync(path.join(root, 'bench', 'store-results.json'), `${JSON.stringify(results, null, 2)}\n`);
  } finally {
    for (const child of children) child.kill('SIGTERM');
    server.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

async function measure({ url, work, emulator }) {
  const { openStore } = await import('../dist/store/index.js');
  const { refreshConnection } = await import('../dist/lifecycle/index.js');
  const { DEMO_CLIENT_ID, DEMO_CLIENT_SECRET } = await import('../dist/emulator/index.js');
  const { getProvider } = await import('../dist/provider/index.js');
  const admin = adminClient(emulator);
  const provider = await getProvider('discord');
  const results = {
    date: new Date().toISOString(),
    quick,
    machine: { nproc: os.availableParallelism(), cpu: os.cpus()[0]?.model, node: process.version, loadavg: os.loadavg()[0] },
    stores: {},
  };
  const kinds = ['files', 'postgres'];
  const setups = {};
  for (const kind of kinds) {
    const home = fs.mkdtempSync(path.join(work, `${kind}-`));
    const options =
      kind === 'files'
        ? { home, env: { KEYGATE_KEY_BACKEND: 'keyfile' }, stderr: () => undefined, keychain: null }
        : { home, store: url, env: { KEYGATE_PASSPHRASE: 'bench' } };
    const store = await openStore(options);
    await store.writeClient('discord', { client_id: DEMO_CLIENT_ID, client_secret: DEMO_CLIENT_SECRET });
    await seedConnection(admin, store);
    await store.read('discord', 'default'); // unlock the key (scrypt / key file) outside the timings
    const others = await Promise.all(Array.from({ length: 8 }, () => openStore(options)));
    await Promise.all(others.map((s) => s.read('discord', 'default')));
    setups[kind] = { store, others };
    results.stores[kind] = {};
  }
  let n = 0;
  const operations = {
    read: [N, ({ store }) => store.read('discord', 'default')],
    peek: [N, ({ store }) => store.peek('discord', 'default')],
    update: [N, ({ store }) => store.update('discord', 'default', (c) => ({ ...c, status_reason: `bench-${n++}` }))],
    refresh: [
      REFRESHES,
      async ({ store }) => {
        // As after a 401 for the token the store holds: a real refresh at the emulator, inside update().
        const current = await store.read('discord', 'default');
        const after = await refreshConnection(store, provider, 'default', { staleToken: current.tokens.access_token });
        if (after.status !== 'connected' || after.tokens.access_token === current.tokens.access_token)
          throw new Error(`refresh did not happen: ${after.status_reason}`);
      },
    ],
    contended: [
      CONTENDED_ROUNDS,
      ({ others }) => Promise.all(others.map((s) => s.update('discord', 'default', (c) => ({ ...c, status_reason: String(n++) })))),
    ],
  };
  // The machine's load drifts (other work shares it), so the two stores take turns in short rounds
  // instead of one running after the other: the ratio compares like with like.
  const ROUNDS = 10;
  for (const [name, [count, fn]] of Object.entries(operations)) {
    const samples = { files: [], postgres: [] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const kind of round % 2 ? [...kinds].reverse() : kinds) {
        for (let i = 0; i < Math.ceil(count / ROUNDS); i++) {
          const start = performance.now();
          await fn(setups[kind]);
          samples[kind].push(performance.now() - start);
        }
      }
    }
    for (const kind of kinds) results.stores[kind][name] = summarize(samples[kind]);
  }
  for (const { store, others } of Object.values(setups)) await Promise.all([store, ...others].map((s) => s.close()));
  process.stdout.write(`${JSON.stringify(results)}\n`);
}

function summarize(samples) {
  samples.sort((a, b) => a - b);
  return {
    n: samples.length,
    p50_ms: round(median(samples)),
    p99_ms: round(samples[Math.min(samples.length - 1, Math.floor(samples.length * 0.99))]),
  };
}

function round(ms) {
  return Math.round(ms * 1000) / 1000;
}

function print(results) {
  const { files, postgres } = results.stores;
  const rows = [
    ['token read (read, decrypt)', 'read'],
    ['metadata read (peek)', 'peek'],
    ['locked update (lock, re-read, seal, write)', 'update'],
    ['refresh at the emulator (refreshConnection)', 'refresh'],
    ['8 updates of one connection at once', 'contended'],
  ];
  console.log(
    `\nkeygate store bench, ${results.date}${results.quick ? ' (--quick)' : ''}; ${results.machine.nproc} CPUs (${results.machine.cpu}), load average ${results.machine.loadavg.toFixed(1)}, node ${results.machine.node}, ${results.machine.postgres}`,
  );
  console.log('p50 (p99) in ms; ratio = postgres p50 / files p50\n');
  console.log(`${'operation'.padEnd(46)}${'files'.padStart(18)}${'postgres'.padStart(18)}${'ratio'.padStart(8)}`);
  for (const [label, key] of rows) {
    const f = files[key];
    const p = postgres[key];
    console.log(
      `${label.padEnd(46)}${`${f.p50_ms.toFixed(2)} (${f.p99_ms.toFixed(1)})`.padStart(18)}${`${p.p50_ms.toFixed(2)} (${p.p99_ms.toFixed(1)})`.padStart(18)}${`${(p.p50_ms / f.p50_ms).toFixed(2)}x`.padStart(8)}`,
    );
  }
}

/** A PostgreSQL server of its own: data dir under `dir`, a free port on 127.0.0.1, as `postgres` when root. */
async function startPostgres(dir) {
  const versions = fs.existsSync('/usr/lib/postgresql') ? fs.readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a)) : [];
  const binDir =
    process.env.KEYGATE_TEST_PG_BIN ??
    (versions[0] ? `/usr/lib/postgresql/${versions[0]}/bin` : execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim());
  const asRoot = process.getuid?.() === 0;
  const pg = (bin, args) =>
    execFileSync(asRoot ? 'runuser' : path.join(binDir, bin), asRoot ? ['-u', 'postgres', '--', path.join(binDir, bin), ...args] : args, {
      cwd: '/',
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
    });
  const data = path.join(dir, 'pg');
  fs.chmodSync(dir, 0o755);
  fs.mkdirSync(data, { mode: 0o700 });
  if (asRoot) execFileSync('chown', ['postgres:postgres', data]);
  pg('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
  const port = await new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
  // Default durability settings (fsync on): the bench measures what a real server pays per commit.
  pg('pg_ctl', [
    'start',
    '-D',
    data,
    '-w',
    '-l',
    path.join(data, 'server.log'),
    '-o',
    `-c listen_addresses=127.0.0.1 -c port=${port} -c unix_socket_directories=`,
  ]);
  const version = pg('postgres', ['--version']).trim();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    version,
    stop: () => pg('pg_ctl', ['stop', '-D', data, '-m', 'fast', '-w']),
  };
}
