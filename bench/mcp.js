#!/usr/bin/env node
// `npm run bench:mcp` (also run by `npm run bench`): `keygate mcp` as an MCP client sees it, over
// stdio with the official SDK's Client, against the Discord emulator in a process of its own.
//   start-up   spawn → initialize → first tools/list answer, against `node -e 0` measured alike
//              (spawn to exit), medians of 15
//   calls/s    discord_get_my_user over one session: sequential, and 8 in flight; beside it the
//              same number of direct HTTPS requests from this process, as the floor
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { median } from './report.js';
import { adminClient, firstLine, seedConnection } from './emulator-client.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'keygate.js');
const quick = process.argv.includes('--quick');
const RUNS = quick ? 3 : 15;
const CALLS = quick ? 100 : 1000;
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'keygate-bench-mcp-'));
let emulatorProcess;
try {
  await main();
} finally {
  emulatorProcess?.kill('SIGTERM');
  fs.rmSync(home, { recursive: true, force: true });
}

async function main() {
  emulatorProcess = spawn(process.execPath, [path.join(root, 'bench', 'emulator.js'), path.join(home, 'emulator')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const emulator = JSON.parse(await firstLine(emulatorProcess.stdout));
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
  const tokens = await seedConnection(adminClient(emulator), vault);

  // Start-up: both measured from spawn; node -e 0 to its exit, keygate mcp to its first tools/list answer.
  const nodeTimes = [];
  const mcpTimes = [];
  for (let run = -1; run < RUNS; run++) {
    let t = performance.now();
    spawnSync(process.execPath, ['-e', '0']);
    if (run >= 0) nodeTimes.push(performance.now() - t);
    t = performance.now();
    const { client } = await connect(env);
    await client.listTools();
    if (run >= 0) mcpTimes.push(performance.now() - t);
    await client.close();
  }

  const { client } = await connect(env);
  const call = () => client.callTool({ name: 'discord_get_my_user', arguments: {} });
  for (let i = 0; i < 20; i++) await call(); // warm-up
  const sequential = await rate(CALLS, 1, call);
  const parallel = await rate(CALLS, 8, call);
  await client.close();
  const agent = new https.Agent({ keepAlive: true, ca: fs.readFileSync(emulator.caPath) });
  const direct = () =>
    new Promise((resolve, reject) => {
      https
        .get(
          {
            host: '127.0.0.1',
            port: emulator.port,
            servername: 'discord.com',
            path: '/api/v10/users/@me',
            headers: { host: 'discord.com', authorization: `Bearer ${tokens.access_token}` },
            agent,
          },
          (res) => res.resume().on('end', resolve),
        )
        .on('error', reject);
    });
  const directSeq = await rate(CALLS, 1, direct);
  agent.destroy();

  const results = {
    date: new Date().toISOString(),
    startup: { node_ms: median(nodeTimes), mcp_first_tools_list_ms: median(mcpTimes), ratio: median(mcpTimes) / median(nodeTimes) },
    calls_per_second: { sequential, eight_in_flight: parallel, direct_https_sequential: directSeq },
  };
  fs.writeFileSync(path.join(root, 'bench', 'results.mcp.json'), `${JSON.stringify(results, null, 2)}\n`);
  const f = (n) => n.toFixed(1);
  console.log('\nkeygate mcp (stdio, SDK client), discord_get_my_user against the emulator');
  console.log(
    `start-up to first tools/list answer   ${f(results.startup.mcp_first_tools_list_ms)} ms   (node -e 0: ${f(results.startup.node_ms)} ms, ${results.startup.ratio.toFixed(2)}×)`,
  );
  console.log(
    `calls/s, one at a time                ${f(sequential)}   (direct HTTPS from this process: ${f(directSeq)}; ${(sequential / directSeq).toFixed(2)} of direct)`,
  );
  console.log(`calls/s, 8 in flight                  ${f(parallel)}`);
}

async function connect(env) {
  const transport = new StdioClientTransport({ command: process.execPath, args: [bin, 'mcp'], env, stderr: 'ignore' });
  const client = new Client({ name: 'keygate-bench', version: '1' });
  await client.connect(transport);
  return { client };
}

async function rate(total, concurrency, fn) {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < total) await fn();
    }),
  );
  return total / ((performance.now() - started) / 1000);
}

/** The emulator's admin API (served on its own TLS port, with `localhost` in its certificate). */
