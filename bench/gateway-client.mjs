// One side of `node bench/gateway.js`: opens the Discord gateway N times in a row and prints the
// median time from `new WebSocket` to READY (HELLO, IDENTIFY, READY), as one JSON line.
//   node gateway-client.mjs direct <port> <ca.pem> <token> <n>   straight to the emulator
//   node gateway-client.mjs proxied <n>                            under `keygate run` (token: $DISCORD_BOT_TOKEN)
import fs from 'node:fs';
import tls from 'node:tls';
import WebSocket from 'ws';

const [mode, ...rest] = process.argv.slice(2);
const direct = mode === 'direct';
const [port, caPath, directToken, n] = direct ? rest : [undefined, undefined, undefined, rest[0]];
const ca = direct ? fs.readFileSync(caPath, 'utf8') : undefined;
const token = direct ? directToken : process.env.DISCORD_BOT_TOKEN;

function once() {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const options = direct
      ? { createConnection: () => tls.connect({ host: '127.0.0.1', port: Number(port), servername: 'gateway.discord.gg', ca }) }
      : {};
    const ws = new WebSocket('wss://gateway.discord.gg/?v=10&encoding=json', options);
    ws.on('message', (data) => {
      const payload = JSON.parse(data.toString());
      if (payload.op === 10)
        ws.send(JSON.stringify({ op: 2, d: { token, intents: 1, properties: { os: 'linux', browser: 'bench', device: 'bench' } } }));
      if (payload.t === 'READY') {
        resolve(performance.now() - started);
        ws.close(1000);
      }
    });
    ws.on('close', (code) => code !== 1000 && code !== 1005 && reject(new Error(`closed ${code}`)));
    ws.on('error', reject);
  });
}

const times = [];
for (let i = 0; i < Number(n); i++) times.push(await once());
times.sort((a, b) => a - b);
console.log(
  JSON.stringify({ mode, runs: times.length, median_ms: times[Math.floor(times.length / 2)], min_ms: times[0], max_ms: times.at(-1) }),
);
