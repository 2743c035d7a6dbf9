// A WebSocket client (the `ws` package) that reaches the emulator's gateway as wss://<host>, TLS
// verified for that host against the emulator's CA, and reads payloads as they arrive (inflating a
// zlib-stream connection the way discord.js does).
import tls from 'node:tls';
import zlib from 'node:zlib';
import WebSocket from 'ws';
import type { Emulator } from '../../src/emulator/index.js';

export interface GatewayPayload {
  op: number;
  d: any;
  s: number | null;
  t: string | null;
}

export interface GatewayClient {
  ws: WebSocket;
  /** The next payload (waits for it). */
  next(): Promise<GatewayPayload>;
  send(payload: unknown): void;
  /** Resolves with the close code and reason. */
  closed: Promise<{ code: number; reason: string }>;
  /** Raw binary frames as received (compressed connections). */
  frames: Buffer[];
}

export function connectGateway(emulator: Emulator, options: { host?: string; query?: string } = {}): Promise<GatewayClient> {
  const host = options.host ?? 'gateway.discord.gg';
  const ws = new WebSocket(`wss://${host}/${options.query ?? '?v=10&encoding=json'}`, {
    createConnection: () => tls.connect({ host: '127.0.0.1', port: emulator.port, servername: host, ca: [emulator.caCertPem] }),
  });
  const queue: GatewayPayload[] = [];
  const waiters: Array<(p: GatewayPayload) => void> = [];
  const frames: Buffer[] = [];
  const inflate = zlib.createInflate();
  let pending: Buffer[] = [];
  const deliver = (p: GatewayPayload) => {
    const waiter = waiters.shift();
    if (waiter) waiter(p);
    else queue.push(p);
  };
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (!isBinary) return deliver(JSON.parse(data.toString()) as GatewayPayload);
    frames.push(data);
    pending.push(data);
    // A whole zlib-stream message ends with the sync flush marker 00 00 ff ff.
    if (data.length < 4 || data.readUInt32BE(data.length - 4) !== 0x0000ffff) return;
    const chunk = Buffer.concat(pending);
    pending = [];
    inflate.write(chunk);
    inflate.flush(zlib.constants.Z_SYNC_FLUSH, () => {
      const text = (inflate.read() as Buffer | null)?.toString() ?? '';
      deliver(JSON.parse(text) as GatewayPayload);
    });
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  return new Promise((resolve, reject) => {
    ws.once('open', () =>
      resolve({
        ws,
        frames,
        closed,
        next: () => (queue.length ? Promise.resolve(queue.shift()!) : new Promise((r) => waiters.push(r))),
        send: (payload) => ws.send(JSON.stringify(payload)),
      }),
    );
    ws.once('unexpected-response', (_req, res) => reject(new Error(`gateway answered HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

export function identify(token: string, intents = 513): unknown {
  return { op: 2, d: { token, intents, properties: { os: 'linux', browser: 'keygate-test', device: 'keygate-test' } } };
}
