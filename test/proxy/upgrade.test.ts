// WebSocket upgrades to an intercepted host: refused with 501 and never forwarded as a plain request
// when no relay takes them; relayed (handshake credential swapped in, frames piped) by a plugged-in
// relayUpgrade. The upstream is a real TLS server with a real `ws` WebSocket server behind it.
import https from 'node:https';
import type net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { type UpgradeHandler, relayUpgrade } from '../../src/proxy/upgrade.js';
import { type Harness, TOKEN, credentials, exchange, removeTempDirs, startHarness, tempDir } from '../fixtures/proxy-harness.js';
import { testCa } from '../fixtures/servers.js';

afterAll(removeTempDirs);
const placeholder = credentials[0].placeholder;

interface WsUpstream {
  port: number;
  /** Handshakes that arrived, as upgrades, with their Authorization header. */
  upgrades: Array<string | undefined>;
  /** Requests that arrived as plain HTTP (a downgraded handshake would land here). */
  plain: string[];
  caPem: string;
  close(): Promise<void>;
}

async function startWsUpstream(): Promise<WsUpstream> {
  const ca = await testCa(tempDir());
  const leaf = await ca.issue(['discord.com']);
  const state = { upgrades: [] as Array<string | undefined>, plain: [] as string[] };
  const server = https.createServer({ cert: leaf.certPem, key: leaf.keyPem }, (req, res) => {
    state.plain.push(`${req.method} ${req.url}`);
    res.end('plain');
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (socket, req) => {
    state.upgrades.push(req.headers.authorization);
    socket.on('message', (data) => socket.send(`echo:${data.toString()}`));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    ...state,
    caPem: ca.certPem,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const handshake = (extra = '') =>
  `GET /?v=10 HTTP/1.1\r\nHost: discord.com\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${extra}\r\n`;

function harness(upstream: WsUpstream, upgrade?: UpgradeHandler): Promise<Harness> {
  return startHarness({ env: { KEYGATE_CONNECT_TO: `discord.com:443:127.0.0.1:${upstream.port}` }, upstreamCa: [upstream.caPem], upgrade });
}

/** ws as a child would use it, over a tunnel the harness opened (ws passes its own createConnection). */
async function openWs(h: Harness, headers: Record<string, string>): Promise<WebSocket> {
  const { socket } = await h.connect('discord.com:443');
  const secure = await h.tls(socket, 'discord.com');
  const ws = new WebSocket('wss://discord.com/?v=10', { headers, createConnection: () => secure as unknown as net.Socket });
  return ws;
}

describe('an upgrade with no relay', () => {
  let upstream: WsUpstream;
  let h: Harness;
  beforeAll(async () => {
    upstream = await startWsUpstream();
    h = await harness(upstream);
  });
  afterAll(async () => {
    await h.close();
    await upstream.close();
  });

  it('is refused with 501 keygate_upgrade_refused, and nothing reaches the server', async () => {
    const { socket } = await h.connect('discord.com:443');
    const secure = await h.tls(socket, 'discord.com');
    const response = await exchange(secure, handshake(`Authorization: Bearer ${placeholder}\r\n`));
    expect(response).toMatch(/^HTTP\/1\.1 501 /);
    expect(response).toContain('"error":"keygate_upgrade_refused"');
    expect(response).toContain('Upgrade: websocket');
    expect(upstream.upgrades).toEqual([]);
    expect(upstream.plain).toEqual([]);
    expect(h.log.at(-1)).toMatchObject({ status: 501, action: 'refused', method: 'GET' });
  });

  it('is refused even without Connection: upgrade (never sent on as a plain GET)', async () => {
    const { socket } = await h.connect('discord.com:443');
    const secure = await h.tls(socket, 'discord.com');
    const response = await exchange(secure, 'GET /?v=10 HTTP/1.1\r\nHost: discord.com\r\nUpgrade: websocket\r\n\r\n');
    expect(response).toMatch(/^HTTP\/1\.1 501 /);
    expect(upstream.plain).toEqual([]);
  });

  it('the ws client sees the 501', async () => {
    const ws = await openWs(h, { authorization: `Bearer ${placeholder}` });
    const status = await new Promise<number>((resolve) => ws.once('unexpected-response', (_req, res) => resolve(res.statusCode!)));
    expect(status).toBe(501);
    expect(upstream.upgrades).toEqual([]);
  });

  it('h2c (only an offer, RFC 9113) is ignored: the request is served as HTTP/1.1', async () => {
    const { socket } = await h.connect('discord.com:443');
    const secure = await h.tls(socket, 'discord.com');
    const response = await exchange(
      secure,
      'GET /h2c HTTP/1.1\r\nHost: discord.com\r\nConnection: Upgrade, HTTP2-Settings, close\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n',
    );
    expect(response).toMatch(/^HTTP\/1\.1 200 /);
    expect(upstream.plain).toEqual(['GET /h2c']);
  });
});

describe('an upgrade taken by the hook', () => {
  let upstream: WsUpstream;
  let h: Harness;
  const seen: string[] = [];
  beforeAll(async () => {
    upstream = await startWsUpstream();
    h = await harness(upstream, (ctx) => {
      seen.push(ctx.target);
      if (ctx.target.startsWith('/decline')) return false;
      void relayUpgrade(ctx);
      return true;
    });
  });
  afterAll(async () => {
    await h.close();
    await upstream.close();
  });

  it('relayUpgrade: the placeholder is swapped in the handshake, frames flow both ways', async () => {
    const ws = await openWs(h, { authorization: `Bearer ${placeholder}` });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    ws.send('hello');
    const reply = await new Promise<string>((resolve) => ws.once('message', (data) => resolve(data.toString())));
    expect(reply).toBe('echo:hello');
    ws.close();
    expect(upstream.upgrades).toEqual([`Bearer ${TOKEN}`]);
    expect(seen).toContain('/?v=10');
    expect(h.log.at(-1)).toMatchObject({ status: 101, action: 'injected', connection: 'default' });
  });

  it('a declined upgrade gets the 501', async () => {
    const { socket } = await h.connect('discord.com:443');
    const secure = await h.tls(socket, 'discord.com');
    const response = await exchange(secure, handshake().replace('GET /?v=10', 'GET /decline'));
    expect(response).toMatch(/^HTTP\/1\.1 501 /);
    expect(upstream.plain).toEqual([]);
  });
});
