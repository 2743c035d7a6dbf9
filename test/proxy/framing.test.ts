// Message framing through a real proxy: the request-smuggling shapes keygate refuses before
// anything goes upstream, pipelined and HTTP/1.0 requests, and responses framed every way a server
// may frame them (chunked, by close, without body), from a scripted raw TLS upstream.
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, TOKEN, credentials, exchange, removeTempDirs, startHarness } from '../fixtures/proxy-harness.js';

afterAll(removeTempDirs);
const placeholder = credentials[0].placeholder;

/** Opens an intercepted tunnel to discord.com and its TLS session. */
async function tunnel(h: Harness): Promise<tls.TLSSocket> {
  const { socket } = await h.connect('discord.com:443');
  return h.tls(socket, 'discord.com');
}

/** Reads from `socket` until `done(text)` holds, or the socket closes. */
function readUntil(socket: tls.TLSSocket, done: (text: string) => boolean): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    let text = '';
    const onData = (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (done(text)) finish(false);
    };
    const onClose = () => finish(true);
    const finish = (closed: boolean) => {
      socket.off('data', onData);
      socket.off('close', onClose);
      resolve({ text, closed });
    };
    socket.on('data', onData);
    socket.once('close', onClose);
  });
}

describe('requests keygate refuses before anything goes upstream', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  const smuggling: Record<string, string> = {
    'Content-Length and Transfer-Encoding': 'Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    'two Content-Length headers': 'Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!',
    'the same Content-Length twice': 'Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello',
    'a malformed Content-Length': 'Content-Length: +5\r\n\r\nhello',
    'a Content-Length list': 'Content-Length: 5, 5\r\n\r\nhello',
    'Transfer-Encoding other than chunked': 'Transfer-Encoding: gzip, identity\r\n\r\nhello',
    'chunked not last': 'Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n',
    'an obs-fold line': 'X-Folded: a\r\n b\r\nContent-Length: 0\r\n\r\n',
    'whitespace before the colon': 'Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n',
    'a bare LF line end': 'X-A: 1\nContent-Length: 0\r\n\r\n',
    'a malformed chunk size': 'Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n',
    'chunk data without its CRLF': 'Transfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n',
  };

  for (const [name, rest] of Object.entries(smuggling)) {
    it(`refuses ${name} with 400 and closes the connection`, async () => {
      const count = h.upstream.requests.length;
      const secure = await tunnel(h);
      const response = await exchange(
        secure,
        `POST /api/v10/__echo HTTP/1.1\r\nHost: discord.com\r\nAuthorization: Bearer ${placeholder}\r\n${rest}`,
      );
      expect(response).toMatch(/^HTTP\/1\.1 400 /);
      expect(response).toContain('"error":"keygate_bad_request"');
      expect(response).toContain('Connection: close');
      expect(h.upstream.requests.length).toBe(count);
    });
  }

  it('answers a CONNECT inside the tunnel with 400 and closes the connection', async () => {
    const secure = await tunnel(h);
    const response = await exchange(secure, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
    expect(response).toMatch(/^HTTP\/1\.1 400 /);
    expect(response).toContain('Connection: close');
  });
});

describe('requests keygate forwards', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  it('answers pipelined requests in order on one connection', async () => {
    const secure = await tunnel(h);
    const one = `GET /api/v10/users/@me?n=1 HTTP/1.1\r\nHost: discord.com\r\nAuthorization: Bearer ${placeholder}\r\n\r\n`;
    const two = 'POST /api/v10/__echo?n=2 HTTP/1.1\r\nHost: discord.com\r\nContent-Length: 5\r\n\r\nhello';
    const three = 'GET /api/v10/users/@me?n=3 HTTP/1.1\r\nHost: discord.com\r\nConnection: close\r\n\r\n';
    const response = await exchange(secure, one + two + three);
    const statuses = [...response.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => m[1]);
    expect(statuses).toEqual(['200', '200', '200']);
    expect(response.indexOf('n=1')).toBeLessThan(response.indexOf('n=2'));
    expect(response.indexOf('n=2')).toBeLessThan(response.indexOf('n=3'));
    const seen = h.upstream.requests.slice(-3);
    expect(seen.map((r) => r.url)).toEqual(['/api/v10/users/@me?n=1', '/api/v10/__echo?n=2', '/api/v10/users/@me?n=3']);
    expect(seen[1].body.toString()).toBe('hello');
    expect(seen.every((r) => r.rawHeaders.includes(`Bearer ${TOKEN}`))).toBe(true);
  });

  it('serves an HTTP/1.0 request and closes the connection after it', async () => {
    const secure = await tunnel(h);
    const response = await exchange(secure, 'GET /api/v10/users/@me HTTP/1.0\r\nHost: discord.com\r\n\r\n');
    expect(response).toMatch(/^HTTP\/1\.1 200 /);
    expect(response).toContain(`"authorization":"Bearer ${TOKEN}"`);
  });

  it('adds Host when the request has none', async () => {
    const secure = await tunnel(h);
    const response = await exchange(secure, 'GET /api/v10/users/@me?nohost HTTP/1.1\r\nConnection: close\r\n\r\n');
    expect(response).toMatch(/^HTTP\/1\.1 200 /);
    const seen = h.upstream.requests.at(-1)!;
    expect(seen.rawHeaders.slice(0, 2)).toEqual(['Host', 'discord.com']);
  });

  it('streams a chunked body split across many writes, and keeps the connection for the next request', async () => {
    const secure = await tunnel(h);
    const head = 'POST /api/v10/__echo HTTP/1.1\r\nHost: discord.com\r\nTransfer-Encoding: chunked\r\nTrailer: X-Trailer\r\n\r\n';
    const body = '3\r\nabc\r\n4;ext=1\r\ndefg\r\n0\r\nX-Trailer: t\r\n\r\n';
    const first = readUntil(secure, (text) => text.includes('}'));
    for (const piece of [head, ...body.match(/.{1,3}/gs)!]) {
      secure.write(piece);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect((await first).text).toMatch(/^HTTP\/1\.1 200 /);
    expect(h.upstream.requests.at(-1)!.body.toString()).toBe('abcdefg');
    expect(h.upstream.requests.at(-1)!.rawHeaders).toContain('X-Trailer');
    const response = await exchange(secure, 'GET /api/v10/users/@me HTTP/1.1\r\nHost: discord.com\r\nConnection: close\r\n\r\n');
    expect(response).toMatch(/^HTTP\/1\.1 200 /);
  });
});

/** A TLS "discord.com" that answers each request with whatever `script` writes, on raw sockets. */
interface RawUpstream {
  port: number;
  connections: number;
  requests: string[];
  script: (request: string, socket: tls.TLSSocket, index: number) => void;
  close(): Promise<void>;
}

async function startRawUpstream(): Promise<RawUpstream> {
  const sockets = new Set<net.Socket>();
  const state: RawUpstream = {
    port: 0,
    connections: 0,
    requests: [],
    script: (_request, socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = tls.createServer({}, (socket) => {
    state.connections++;
    let buffer = '';
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('latin1');
      let end: number;
      while ((end = buffer.indexOf('\r\n\r\n')) !== -1) {
        const request = buffer.slice(0, end + 4);
        buffer = buffer.slice(end + 4);
        state.requests.push(request);
        state.script(request, socket, state.requests.length - 1);
      }
    });
    socket.on('error', () => undefined);
  });
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.address() as net.AddressInfo).port;
  return Object.assign(state, { server });
}

describe('large bodies', () => {
  const big = randomBytes(8 * 1024 * 1024);
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ answer: () => ({ headers: { 'content-type': 'application/octet-stream' }, body: big }) });
  });
  afterAll(() => h.close());

  it('streams an 8 MB response to a client that reads slowly, and keeps the connection', async () => {
    const secure = await tunnel(h);
    secure.write('GET /api/v10/big HTTP/1.1\r\nHost: discord.com\r\n\r\n');
    const received: Buffer[] = [];
    let size = 0;
    const headEnd = await new Promise<number>((resolve) => {
      secure.on('data', (chunk: Buffer) => {
        received.push(chunk);
        size += chunk.length;
        // Read slowly: the proxy must hold upstream back rather than buffer everything.
        secure.pause();
        setTimeout(() => secure.resume(), 1);
        const all = Buffer.concat(received);
        const end = all.indexOf('\r\n\r\n');
        if (end !== -1 && size - end - 4 >= big.length) resolve(end);
      });
    });
    const all = Buffer.concat(received);
    expect(all.subarray(0, headEnd).toString('latin1')).toMatch(/^HTTP\/1\.1 200 /);
    const body = all.subarray(headEnd + 4);
    expect(body.length).toBe(big.length);
    expect(createHash('sha256').update(body).digest('hex')).toBe(createHash('sha256').update(big).digest('hex'));
    secure.removeAllListeners('data');
    const again = await exchange(secure, 'GET /api/v10/users/@me HTTP/1.1\r\nHost: discord.com\r\nConnection: close\r\n\r\n');
    expect(again).toMatch(/^HTTP\/1\.1 200 /);
  });
});

describe('responses keygate relays', () => {
  let raw: RawUpstream & { server?: tls.Server };
  let h: Harness;
  beforeAll(async () => {
    raw = await startRawUpstream();
    h = await startHarness({ env: { KEYGATE_CONNECT_TO: `discord.com:443:127.0.0.1:${raw.port}` } });
    const leaf = await h.upstreamCa.issue(['discord.com']);
    raw.server!.setSecureContext({ cert: leaf.certPem, key: leaf.keyPem });
  });
  afterAll(async () => {
    await h.close();
    await raw.close();
  });

  it('relays a chunked response byte for byte, with its trailers, and keeps both connections', async () => {
    const body = '4\r\nWiki\r\n5\r\npedia\r\n0\r\nX-Checksum: 1\r\n\r\n';
    raw.script = (_r, socket) =>
      socket.write(
        `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\nConnection: keep-alive\r\nKeep-Alive: timeout=30\r\nX-Upstream: 1\r\n\r\n${body}`,
      );
    const secure = await tunnel(h);
    secure.write('GET /api/v10/users/@me HTTP/1.1\r\nHost: discord.com\r\n\r\n');
    const { text } = await readUntil(secure, (t) => t.endsWith('\r\n\r\n') && t.includes('X-Checksum'));
    const [headText] = text.split('\r\n\r\n');
    expect(text.slice(headText.length + 4)).toBe(body);
    // The server's connection fields are hop-by-hop: the client gets keygate's, not the server's.
    expect(headText).not.toMatch(/keep-alive/i);
    expect(headText).toContain('X-Upstream: 1');
    // Trailer is end-to-end (RFC 9110 §6.6.2): it announces the trailer fields relayed above.
    expect(headText).toContain('Trailer: X-Checksum');
    const before = raw.connections;
    const again = await exchange(secure, 'GET /api/v10/users/@me HTTP/1.1\r\nHost: discord.com\r\nConnection: close\r\n\r\n');
    expect(again).toMatch(/^HTTP\/1\.1 200 /);
    expect(raw.connections).toBe(before);
  });

  it('relays a response framed by the server closing, then closes the client connection', async () => {
    raw.script = (_r, socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end');
    const secure = await tunnel(h);
    const response = await exchange(secure, 'GET /api/v10/users/@me HTTP/1.1\r\nHost: discord.com\r\n\r\n');
    expect(response).toMatch(/^HTTP\/1\.1 200 /);
    expect(response).toContain('Connection: close');
    expect(response.endsWith('\r\n\r\nuntil the end')).toBe(true);
  });

  it('passes bodiless responses (HEAD, 204, 304) and 103 Early Hints', async () => {
    raw.script = (request, socket) => {
      if (request.startsWith('HEAD')) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n');
      else if (request.includes('no-content')) socket.write('HTTP/1.1 204 No Content\r\n\r\n');
      else socket.write('HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 304 Not Modified\r\nETag: "x"\r\n\r\n');
    };
    const secure = await tunnel(h);
    const response = await exchange(
      secure,
      'HEAD /api/v10/users/@me HTTP/1.1\r\nHost: discord.com\r\n\r\n' +
        'GET /api/v10/no-content HTTP/1.1\r\nHost: discord.com\r\n\r\n' +
        'GET /api/v10/users/@me HTTP/1.1\r\nHost: discord.com\r\nConnection: close\r\n\r\n',
    );
    expect([...response.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => m[1])).toEqual(['200', '204', '103', '304']);
  });

  it('answers 502 to an ambiguously framed response', async () => {
    raw.script = (_r, socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
    const res = await h.send('https://discord.com/api/v10/users/@me');
    expect(res.status).toBe(502);
    expect(JSON.parse(res.body).message).toBe('discord.com:443 sent a malformed response (both Content-Length and Transfer-Encoding)');
  });

  it('sends a GET again on a new connection when a reused one was closed by the server', async () => {
    // The server answers, then drops the connection as the next request arrives on it.
    raw.script = (request, socket, index) => {
      if (request.includes('drop') && index % 2 === 1) return void socket.destroy();
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    };
    raw.requests.length = 0;
    const secure = await tunnel(h);
    const first = readUntil(secure, (t) => t.endsWith('ok'));
    secure.write('GET /drop HTTP/1.1\r\nHost: discord.com\r\n\r\n');
    expect((await first).text).toMatch(/^HTTP\/1\.1 200 /);
    const second = await exchange(secure, 'GET /drop HTTP/1.1\r\nHost: discord.com\r\nConnection: close\r\n\r\n');
    expect(second).toMatch(/^HTTP\/1\.1 200 /);
    expect(raw.requests.length).toBe(3);
  });
});
