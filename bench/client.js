// The benchmark's load generator, run as the child of `keygate run` so the real proxy path (CONNECT,
// TLS with keygate's leaf, placeholder → token, upstream pool) is what gets measured. undici in its
// own process, so the client is never the bottleneck. Modes (argv[2]), config from the JSON file argv[3]:
//   throughput  rounds of N requests per scenario (concurrency, fresh connections) against each
//               target in turn: direct to the emulator, through keygate (intercepted), through
//               keygate's blind tunnel (the emulator as localhost: bytes relayed, nothing parsed;
//               the floor for any proxy hop), through the floor relay (bench/floor-relay.js: the
//               floor for a TLS-terminating one), through mitmproxy
//   refresh     bursts of concurrent requests before and as the access token goes stale
// Prints one JSON document on stdout; progress on stderr.
import fs from 'node:fs';
import { Agent, ProxyAgent, buildConnector, request } from 'undici';

const [mode, configFile] = process.argv.slice(2);
const config = JSON.parse(fs.readFileSync(configFile, 'utf8'));
const URL = 'https://discord.com/api/v10/users/@me';
const placeholder = process.env.DISCORD_ACCESS_TOKEN;
if (!placeholder?.startsWith('kgph_')) throw new Error('run me under `keygate run`: DISCORD_ACCESS_TOKEN holds no placeholder');
const realToken = fs.readFileSync(config.tokenFile, 'utf8').trim();
const emulatorCa = fs.readFileSync(config.emulatorCaPath, 'utf8');

/** A dispatcher per target; `connections` caps the pool (one per concurrent worker). */
function dispatcher(target, connections) {
  if (target === 'direct') {
    // To the emulator's port, TLS verified for discord.com against its CA: what discord.com would be.
    const connect = buildConnector({ ca: emulatorCa });
    return new Agent({
      connections,
      connect: (opts, cb) => connect({ ...opts, hostname: '127.0.0.1', port: config.emulatorPort, servername: 'discord.com' }, cb),
    });
  }
  if (target === 'keygate') return new ProxyAgent({ uri: process.env.HTTPS_PROXY, connections });
  if (target === 'tunnel') return new ProxyAgent({ uri: process.env.HTTPS_PROXY, connections, requestTls: { ca: emulatorCa } });
  if (target === 'floor')
    return new ProxyAgent({ uri: config.floor.url, connections, requestTls: { ca: fs.readFileSync(config.floor.caPath, 'utf8') } });
  return new ProxyAgent({ uri: config.mitm.url, connections, requestTls: { ca: fs.readFileSync(config.mitm.caPath, 'utf8') } });
}

const authorization = {
  direct: `Bearer ${realToken}`,
  keygate: `Bearer ${placeholder}`,
  tunnel: `Bearer ${realToken}`,
  floor: `Bearer ${placeholder}`,
  mitmproxy: `Bearer ${placeholder}`,
};
// localhost is not a provider host: keygate tunnels it blind, to the emulator (its certificate names localhost too).
const urls = { tunnel: `https://localhost:${config.emulatorPort}/api/v10/users/@me` };

/** CPU time (ms) a process has used so far, from /proc (user + system). */
function cpuMs(pid) {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10; // clock ticks of 10 ms (USER_HZ 100)
}

/** The proxy's process, to charge it the CPU a trial costs it: keygate run is our parent. */
const proxyPid = { direct: undefined, keygate: process.ppid, tunnel: process.ppid, floor: config.floor.pid, mitmproxy: config.mitm?.pid };

/** `total` GETs from `workers` concurrent loops; req/s and per-request latencies (ms). */
async function trial(target, agent, total, workers, fresh) {
  const pid = proxyPid[target];
  const cpuBefore = pid === undefined ? 0 : cpuMs(pid);
  const latencies = new Float64Array(total);
  let next = 0;
  const headers = { authorization: authorization[target] };
  const worker = async () => {
    while (next < total) {
      const index = next++;
      const started = performance.now();
      // reset: `Connection: close`, so every request opens a new connection (and tunnel, and TLS session).
      const { statusCode, body } = await request(urls[target] ?? URL, { dispatcher: agent, headers, reset: fresh });
      await body.dump();
      latencies[index] = performance.now() - started;
      if (statusCode !== 200) throw new Error(`${target}: status ${statusCode}`);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: workers }, worker));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort();
  const cpuUs = pid === undefined ? undefined : ((cpuMs(pid) - cpuBefore) * 1000) / total;
  return { rps: total / seconds, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), cpuUs };
}

function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** RSS figures (kB) of the parent, i.e. the `keygate run` process serving us. */
function parentMemory() {
  const cmdline = fs.readFileSync(`/proc/${process.ppid}/cmdline`, 'utf8');
  if (!cmdline.includes('keygate')) return undefined;
  const status = fs.readFileSync(`/proc/${process.ppid}/status`, 'utf8');
  const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
  return { pid: process.ppid, rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
}

async function throughput() {
  const targets = ['direct', 'keygate', 'tunnel', 'floor', ...(config.mitm ? ['mitmproxy'] : [])];
  const out = { memory: { idle: parentMemory() }, scenarios: [] };
  for (const scenario of config.scenarios) {
    const agents = Object.fromEntries(targets.map((t) => [t, dispatcher(t, scenario.concurrency)]));
    // mitmproxy is ~10× slower: fewer requests per trial keep the run short; rates stay comparable.
    const count = (target) => (target === 'mitmproxy' ? Math.ceil(scenario.requests * config.mitm.share) : scenario.requests);
    const rounds = Object.fromEntries(targets.map((t) => [t, []]));
    for (const target of targets) await trial(target, agents[target], Math.ceil(count(target) / 2), scenario.concurrency, scenario.fresh); // warm-up
    for (let round = 0; round < scenario.rounds; round++) {
      // Alternate the order, so a drift in machine speed does not favour one target.
      const order = round % 2 === 0 ? targets : [...targets].reverse();
      for (const target of order)
        rounds[target].push(await trial(target, agents[target], count(target), scenario.concurrency, scenario.fresh));
    }
    process.stderr.write(
      `  ${scenario.name}: ${targets.map((t) => `${t} ${Math.round(rounds[t][0].rps)}`).join(', ')} req/s (first round)\n`,
    );
    if (scenario.concurrency === 32 && !scenario.fresh) out.memory.after32 = parentMemory();
    out.scenarios.push({ ...scenario, rounds });
    await Promise.all(Object.values(agents).map((agent) => agent.close()));
  }
  return out;
}

async function refresh() {
  const { connections, staleAt } = config.refresh;
  const agent = dispatcher('keygate', connections);
  const burst = async () => {
    const results = await Promise.all(
      Array.from({ length: connections }, async () => {
        const started = performance.now();
        const { statusCode, body } = await request(URL, { dispatcher: agent, headers: { authorization: authorization.keygate } });
        await body.dump();
        return { status: statusCode, ms: performance.now() - started };
      }),
    );
    const ms = results.map((r) => r.ms).sort((a, b) => a - b);
    return { n: results.length, ok: results.filter((r) => r.status === 200).length, p50: quantile(ms, 0.5), max: ms.at(-1) };
  };
  const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  for (let i = 0; i < 5; i++) await burst(); // 32 connections open and warm
  const before = [];
  while (Date.now() < staleAt - 300) {
    before.push(await burst());
    await pause(50);
  }
  while (Date.now() < staleAt + 20) await pause(5);
  const at = await burst();
  const after = [];
  for (let i = 0; i < 5; i++) after.push(await burst());
  await agent.close();
  return { before, at, after };
}

const result = mode === 'refresh' ? await refresh() : await throughput();
process.stdout.write(`${JSON.stringify(result)}\n`);
