#!/usr/bin/env node
// `node bench/gateway.js [--quick]` (after a build; `npm run bench` runs it at the end): what the
// gateway relay adds to a bot's start. The same client opens the Discord gateway N times in a row
// (new WebSocket → HELLO → IDENTIFY → READY) straight to the emulator, and then under a real
// `keygate run`, where its WebSocket goes through the proxy's relay with a placeholder token.
// Prints both medians and writes bench/gateway-results.json.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const quick = process.argv.includes('--quick');
const N = quick ? 5 : 40;
const ROUNDS = quick ? 1 : 3;
const client = path.join(root, 'bench', 'gateway-client.mjs');
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'keygate-bench-gateway-'));

const { startEmulator } = await import('../dist/emulator/index.js');
const { openVault } = await import('../dist/vault/index.js');
const emulator = await startEmulator({ dir: path.join(home, 'emulator') });
try {
  const { token } = emulator.controls.botToken();
  const vault = await openVault({ home, env: { KEYGATE_KEY_BACKEND: 'keyfile' }, stderr: () => undefined, keychain: null });
  await vault.write({
    provider: 'discord',
    connection: 'bot',
    kind: 'bot',
    application: { id: '123456789012345678', name: 'Keygate Demo' },
    installations: [],
    tokens: { access_token: token, token_type: 'Bot', scopes: [] },
    account: { id: '1171993355049885706', name: 'keygate-demo' },
    status: 'connected',
    created_at: new Date().toISOString(),
  });
  const env = {
    PATH: process.env.PATH,
    HOME: home,
    KEYGATE_HOME: home,
    KEYGATE_KEY_BACKEND: 'keyfile',
    KEYGATE_CONNECT_TO: emulator.connectToAll,
    NODE_EXTRA_CA_CERTS: emulator.caPath,
  };
  const direct = [];
  const relayed = [];
  // Alternate the two, so a noisy moment of the machine hurts both alike.
  for (let round = 0; round < ROUNDS; round++) {
    direct.push(await measure([process.execPath, client, 'direct', String(emulator.port), emulator.caPath, token, String(N)], env));
    relayed.push(
      await measure(
        [process.execPath, path.join(root, 'bin', 'keygate.js'), 'run', '--', process.execPath, client, 'proxied', String(N)],
        env,
      ),
    );
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const result = {
    connections_per_round: N,
    rounds: ROUNDS,
    direct_ready_ms: round2(median(direct.map((r) => r.median_ms))),
    relayed_ready_ms: round2(median(relayed.map((r) => r.median_ms))),
  };
  result.added_ms = round2(result.relayed_ready_ms - result.direct_ready_ms);
  console.log(
    `gateway READY (new WebSocket → READY, median of ${N} × ${ROUNDS}): direct ${result.direct_ready_ms} ms, through keygate's relay ${result.relayed_ready_ms} ms (+${result.added_ms} ms)`,
  );
  if (!quick)
    fs.writeFileSync(
      path.join(root, 'bench', 'gateway-results.json'),
      `${JSON.stringify({ ...result, node: process.version, cpus: os.cpus().length, at: new Date().toISOString() }, null, 2)}\n`,
    );
} finally {
  await emulator.stop();
  fs.rmSync(home, { recursive: true, force: true });
}

function round2(x) {
  return Math.round(x * 100) / 100;
}

function measure(argv, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${argv.slice(1, 4).join(' ')} exited ${code}`));
      resolve(JSON.parse(out.trim().split('\n').at(-1)));
    });
  });
}
