// The proxy in-process, over real sockets and real TLS: auth, injection, pass-through, refusals,
// blind tunnels, plain HTTP, upstream failures, 401 replay, keep-alive and the request log.
import { createHash, randomBytes } from 'node:crypto';
import https from 'node:https';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPort, header, startRecorder, testCa } from '../fixtures/servers.js';
import {
  type Harness,
  TOKEN,
  WORK_TOKEN,
  basic,
  credentials,
  exchange,
  removeTempDirs,
  startHarness,
  tempDir,
  tokenMap,
} from '../fixtures/proxy-harness.js';

const [defaultCredential, workCredential] = credentials as [(typeof credentials)[0], (typeof credentials)[0]];
const API = 'https://discord.com/api/v10/users/@me';

afterAll(removeTempDirs);

describe('intercepted provider host', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  it('replaces the placeholder in Authorization with the real token', async () => {
    const res = await h.send(API, { headers: { authorization: `Bearer ${defaultCredential.placeholder}` } });
    expect(res.status).toBe(200);
    const seen = h.upstream.requests.at(-1)!;
    expect(header(seen, 'authorization')).toEqual([`Bearer ${TOKEN}`]);
    expect(JSON.stringify(seen.rawHeaders)).not.toContain('kgph_');
  });

  it('picks the connection by placeholder (discord/work)', async () => {
    await h.send(API, { headers: { authorization: `Bearer ${workCredential.placeholder}` } });
    expect(header(h.upstream.requests.at(-1)!, 'authorization')).toEqual([`Bearer ${WORK_TOKEN}`]);
  });

  it('adds the default connection credential when there is no Authorization header', async () => {
    await h.send(API);
    expect(header(h.upstream.requests.at(-1)!, 'authorization')).toEqual([`Bearer ${TOKEN}`]);
  });

  it('forwards a request that brings its own credential untouched', async () => {
    await h.send(API, { headers: { authorization: 'Bot my-own-bot-token' } });
    expect(header(h.upstream.requests.at(-1)!, 'authorization')).toEqual(['Bot my-own-bot-token']);
  });

  it('changes nothing else: header names, order, values and the body arrive byte for byte', async () => {
    const tunnel = await h.connect('discord.com:443');
    const secure = await h.tls(tunnel.socket, 'discord.com');
    const body = '{"content":"hi ✓"}';
    const raw =
      `POST /api/v10/channels/1/messages?x=1&y=%20 HTTP/1.1\r\nHost: discord.com\r\nX-Custom-Case: MiXeD  spaced\r\n` +
      `authorization: Bearer ${defaultCredential.placeholder}\r\nx-dup: 1\r\nX-Dup: 2\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
    const response = await exchange(secure, raw);
    expect(response).toMatch(/^HTTP\/1\.1 200/);
    const seen = h.upstream.requests.at(-1)!;
    expect(seen.url).toBe('/api/v10/channels/1/messages?x=1&y=%20');
    // Every end-to-end header in order, names and values as sent; only the credential changed.
    // undici writes Host and Content-Length itself (lower-case names, same values) and its own
    // `connection: keep-alive`: connection management is hop-by-hop (RFC 9110 §7.6.1).
    const managed = new Set(['host', 'content-length', 'connection']);
    const endToEnd = seen.rawHeaders.filter((_, i, all) => !managed.has(all[i - (i % 2)].toLowerCase()));
    expect(endToEnd).toEqual([
      'X-Custom-Case',
      'MiXeD  spaced',
      'authorization',
      `Bearer ${TOKEN}`,
      'x-dup',
      '1',
      'X-Dup',
      '2',
      'Content-Type',
      'application/json',
    ]);
    expect(header(seen, 'host')).toEqual(['discord.com']);
    expect(header(seen, 'content-length')).toEqual([String(Buffer.byteLength(body))]);
    expect(seen.body.toString('utf8')).toBe(body);
  });

  it('streams a 5 MB upload with Expect: 100-continue both ways', async () => {
    const payload = randomBytes(5 * 1024 * 1024);
    const tunnel = await h.connect('discord.com:443');
    const secure = await h.tls(tunnel.socket, 'discord.com');
    const result = await new Promise<{ status: number; body: string; sawContinue: boolean }>((resolve, reject) => {
      let sawContinue = false;
      const req = https.request(
        {
          createConnection: () => secure,
          host: 'discord.com',
          method: 'POST',
          path: '/api/v10/__echo',
          headers: {
            host: 'discord.com',
            expect: '100-continue',
            'content-length': payload.length,
            authorization: `Bearer ${defaultCredential.placeholder}`,
          },
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (c: string) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode!, body, sawContinue }));
        },
      );
      req.on('continue', () => {
        sawContinue = true;
        req.end(payload);
      });
      req.on('error', reject);
    });
    expect(result.sawContinue).toBe(true);
    expect(result.status).toBe(200);
    const echo = JSON.parse(result.body) as { bytes: number; sha256: string; authorization: string };
    expect(echo.bytes).toBe(payload.length);
    expect(echo.sha256).toBe(createHash('sha256').update(payload).digest('hex'));
    expect(echo.authorization).toBe(`Bearer ${TOKEN}`);
    // Expect is end-to-end (RFC 9110 §10.1.1): the server's own 100 Continue released the body.
    expect(header(h.upstream.requests.at(-1)!, 'expect')).toEqual(['100-continue']);
  });

  it('streams a chunked request body', async () => {
    const tunnel = await h.connect('discord.com:443');
    const secure = await h.tls(tunnel.socket, 'discord.com');
    const response = await exchange(
      secure,
      'POST /api/v10/__echo HTTP/1.1\r\nHost: discord.com\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n',
    );
    expect(response).toMatch(/^HTTP\/1\.1 200/);
    expect(h.upstream.requests.at(-1)!.body.toString()).toBe('hello world');
  });

  it('keeps connections alive on both sides', async () => {
    const before = h.upstream.connections;
    const tunnel = await h.connect('discord.com:443');
    const secure = await h.tls(tunnel.socket, 'discord.com');
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    (agent as unknown as { createConnection: () => net.Socket }).createConnection = () => secure;
    for (let i = 0; i < 5; i++) {
      const status = await new Promise<number>((resolve, reject) => {
        https
          .get({ agent, host: 'discord.com', path: `/api/v10/users/@me?i=${i}` }, (res) =>
            res.resume().on('end', () => resolve(res.statusCode!)),
          )
          .on('error', reject);
      });
      expect(status).toBe(200);
    }
    agent.destroy();
    // Five requests on one client connection; upstream, the pooled connection of earlier tests (or one new one).
    expect(h.upstream.connections - before).toBeLessThanOrEqual(1);
  });

  it('refuses a placeholder outside the Authorization header, and sends nothing upstream', async () => {
    const count = h.upstream.requests.length;
    const res = await h.send(API, { headers: { 'x-token': defaultCredential.placeholder } });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ error: 'keygate_placeholder_refused' });
    expect(res.body).not.toContain('kgph_');
    const inUrl = await h.send(`${API}?token=${defaultCredential.placeholder}`);
    expect(inUrl.status).toBe(400);
    expect(h.upstream.requests.length).toBe(count);
  });

  it("refuses a placeholder that is not one of this run's", async () => {
    const res = await h.send(API, { headers: { authorization: 'Bearer kgph_discord_default_ffffffffffffffffffffffffffffffff' } });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).message).toContain('not one of this run');
  });

  it('refuses a Host header that names another host (421): the tunnel target is the CONNECT line', async () => {
    const count = h.upstream.requests.length;
    const tunnel = await h.connect('discord.com:443');
    const secure = await h.tls(tunnel.socket, 'discord.com');
    const response = await exchange(secure, 'GET /api/v10/users/@me HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n');
    expect(response).toMatch(/^HTTP\/1\.1 421/);
    const absolute = await h.connect('discord.com:443');
    const secure2 = await h.tls(absolute.socket, 'discord.com');
    const response2 = await exchange(secure2, 'GET https://evil.example/steal HTTP/1.1\r\nHost: discord.com\r\nConnection: close\r\n\r\n');
    expect(response2).toMatch(/^HTTP\/1\.1 421/);
    expect(h.upstream.requests.length).toBe(count);
  });

  it('refuses header values with CR or LF (400) before anything goes upstream', async () => {
    const count = h.upstream.requests.length;
    for (const bad of ['X-Evil: a\rInjected: b', 'X-Evil: a\nInjected: b']) {
      const tunnel = await h.connect('discord.com:443');
      const secure = await h.tls(tunnel.socket, 'discord.com');
      const response = await exchange(secure, `GET /api/v10/users/@me HTTP/1.1\r\nHost: discord.com\r\n${bad}\r\n\r\n`);
      expect(response).toMatch(/^HTTP\/1\.1 400/);
    }
    const plain = net.connect(h.proxy.port, '127.0.0.1');
    const response = await exchange(
      plain,
      `GET http://127.0.0.1:9/ HTTP/1.1\r\nHost: 127.0.0.1:9\r\nProxy-Authorization: ${basic(h.proxy)}\r\nX-Evil: a\rb\r\n\r\n`,
    );
    expect(response).toMatch(/^HTTP\/1\.1 400/);
    expect(h.upstream.requests.length).toBe(count);
  });

  it('uses ALPN http/1.1 and a certificate from keygate CA for the CONNECT host', async () => {
    const tunnel = await h.connect('Discord.COM.:443');
    expect(tunnel.statusLine).toBe('HTTP/1.1 200 Connection Established');
    const secure = await h.tls(tunnel.socket, 'discord.com');
    expect(secure.alpnProtocol).toBe('http/1.1');
    expect(secure.getPeerX509Certificate()!.checkHost('discord.com')).toBe('discord.com');
    secure.destroy();
  });

  it('logs each request without credential, placeholder or query values', async () => {
    await h.send(`${API}?token=abc123&limit=5`, { headers: { authorization: `Bearer ${defaultCredential.placeholder}` } });
    const entry = h.log.at(-1)!;
    expect(entry).toMatchObject({
      method: 'GET',
      host: 'discord.com',
      path: '/api/v10/users/@me?token=…&limit=…',
      status: 200,
      provider: 'discord',
      connection: 'default',
      action: 'injected',
    });
    const all = JSON.stringify(h.log);
    expect(all).not.toContain(TOKEN);
    expect(all).not.toContain(WORK_TOKEN);
    expect(all).not.toContain('kgph_');
  });
});

describe('proxy authentication', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  it('answers 407 with Proxy-Authenticate to a CONNECT without or with wrong credentials', async () => {
    for (const auth of ['', 'Basic ' + Buffer.from('keygate:wrong').toString('base64'), 'Bearer x']) {
      const { head } = await h.connect('discord.com:443', auth);
      expect(head).toMatch(/^HTTP\/1\.1 407/);
      expect(head).toContain('Proxy-Authenticate: Basic realm="keygate"');
    }
  });

  it('answers 407 to plain HTTP and to a client that does not know the password', async () => {
    const res = await h.send('https://discord.com/api/v10/users/@me', { auth: false }).catch((err: Error) => err);
    expect(String(res)).toMatch(/407/);
    const plain = net.connect(h.proxy.port, '127.0.0.1');
    const response = await exchange(plain, 'GET http://example.test/ HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n');
    expect(response).toMatch(/^HTTP\/1\.1 407/);
    expect(response.toLowerCase()).toContain('proxy-authenticate: basic realm="keygate"');
    expect(h.upstream.requests.length).toBe(0);
  });
});

describe('other hosts', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  it('tunnels CONNECT blindly: the other host gets the placeholder, never the token, and its own certificate', async () => {
    const other = await startRecorder({ tls: await h.upstreamCa.issue(['localhost']) });
    try {
      const tunnel = await h.connect(`localhost:${other.port}`);
      const secure = await h.tls(tunnel.socket, 'localhost', h.upstreamCa.certPem);
      // The certificate is the server's own, not one from keygate's CA: nothing was intercepted.
      expect(secure.getPeerX509Certificate()!.issuer).toContain('keygate test upstream CA');
      const response = await exchange(
        secure,
        `GET /x HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${defaultCredential.placeholder}\r\nConnection: close\r\n\r\n`,
      );
      expect(response).toMatch(/^HTTP\/1\.1 200/);
      expect(header(other.requests[0], 'authorization')).toEqual([`Bearer ${defaultCredential.placeholder}`]);
      expect(JSON.stringify(other.requests)).not.toContain(TOKEN);
    } finally {
      await other.close();
    }
  });

  it('forwards plain HTTP untouched to other hosts, without the proxy credentials', async () => {
    const other = await startRecorder();
    try {
      const plain = net.connect(h.proxy.port, '127.0.0.1');
      const response = await exchange(
        plain,
        `GET http://127.0.0.1:${other.port}/p?q=1 HTTP/1.1\r\nHost: 127.0.0.1:${other.port}\r\nProxy-Authorization: ${basic(h.proxy)}\r\n` +
          `Authorization: Bearer ${defaultCredential.placeholder}\r\nConnection: close\r\n\r\n`,
      );
      expect(response).toMatch(/^HTTP\/1\.1 200/);
      const seen = other.requests[0];
      expect(seen.url).toBe('/p?q=1');
      expect(header(seen, 'authorization')).toEqual([`Bearer ${defaultCredential.placeholder}`]);
      expect(header(seen, 'proxy-authorization')).toEqual([]);
      expect(JSON.stringify(seen)).not.toContain(TOKEN);
    } finally {
      await other.close();
    }
  });

  it('refuses plain HTTP to a provider host (its credential only travels over TLS)', async () => {
    const plain = net.connect(h.proxy.port, '127.0.0.1');
    const response = await exchange(
      plain,
      `GET http://discord.com/api/v10/users/@me HTTP/1.1\r\nHost: discord.com\r\nProxy-Authorization: ${basic(h.proxy)}\r\nConnection: close\r\n\r\n`,
    );
    expect(response).toMatch(/^HTTP\/1\.1 403/);
    expect(response).toContain('keygate_plain_http_refused');
    expect(h.upstream.requests.length).toBe(0);
  });

  it('answers 502 when a tunnel target is down', async () => {
    const { head } = await h.connect(`localhost:${await closedPort()}`);
    expect(head).toMatch(/^HTTP\/1\.1 502/);
    expect(head).toContain('connection refused');
  });
});

describe('upstream failures and 401 replay', () => {
  it('answers 502 with a short JSON body saying what failed, without secrets', async () => {
    const port = await closedPort();
    const h = await startHarness({ env: { KEYGATE_CONNECT_TO: `discord.com:443:127.0.0.1:${port}` } });
    try {
      const res = await h.send(API, { headers: { authorization: `Bearer ${defaultCredential.placeholder}` } });
      expect(res.status).toBe(502);
      expect(res.headers['content-type']).toBe('application/json');
      expect(JSON.parse(res.body)).toEqual({
        error: 'keygate_upstream_error',
        message: 'could not connect to discord.com:443: connection refused',
      });
      expect(h.log.at(-1)).toMatchObject({ status: 502, error: 'could not connect to discord.com:443: connection refused' });
    } finally {
      await h.close();
    }
  });

  it('answers 502 when the upstream certificate does not verify', async () => {
    // A certificate for discord.com from a CA nobody trusts.
    const impostor = await startRecorder({ tls: await (await testCa(tempDir())).issue(['discord.com']) });
    const h2 = await startHarness({ env: { KEYGATE_CONNECT_TO: `discord.com:443:127.0.0.1:${impostor.port}` } });
    try {
      const res = await h2.send(API);
      expect(res.status).toBe(502);
      expect(JSON.parse(res.body).message).toMatch(/TLS verification of discord.com failed/);
      expect(impostor.requests.length).toBe(0);
    } finally {
      await h2.close();
      await impostor.close();
    }
  });

  function refreshingTokens(): { tokens: ReturnType<typeof tokenMap>; calls: string[] } {
    const calls: string[] = [];
    let current = 'old-token-SECRET';
    return {
      calls,
      tokens: {
        async getToken() {
          return current;
        },
        async onUnauthorized(provider, connection, token) {
          calls.push(`${provider}/${connection}:${token === 'old-token-SECRET' ? 'old' : 'other'}`);
          current = 'new-token-SECRET';
          return current;
        },
      },
    };
  }
  const rejectOld = (req: { rawHeaders: string[] }) =>
    req.rawHeaders.includes('Bearer old-token-SECRET') ? { status: 401, body: '{"message": "401: Unauthorized", "code": 0}' } : undefined;

  it('replays a request once with a new token after a 401, body included', async () => {
    const { tokens, calls } = refreshingTokens();
    const h = await startHarness({
      tokens,
      answer: (r) => rejectOld(r) ?? { body: JSON.stringify({ ok: true, body: r.body.toString() }) },
    });
    try {
      const res = await h.send(API, {
        method: 'POST',
        body: 'small body',
        headers: { authorization: `Bearer ${defaultCredential.placeholder}`, 'content-type': 'text/plain' },
      });
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body)).toEqual({ ok: true, body: 'small body' });
      expect(calls).toEqual(['discord/default:old']);
      expect(h.upstream.requests.map((r) => header(r, 'authorization')[0])).toEqual(['Bearer old-token-SECRET', 'Bearer new-token-SECRET']);
      expect(h.log.at(-1)).toMatchObject({ action: 'replayed', status: 200 });
    } finally {
      await h.close();
    }
  });

  it('passes the 401 through when the body was too large to keep for a replay', async () => {
    const { tokens } = refreshingTokens();
    const h = await startHarness({ tokens, answer: (r) => rejectOld(r) ?? {} });
    try {
      const res = await h.send(API, {
        method: 'POST',
        body: randomBytes(2 * 1024 * 1024),
        headers: { 'content-type': 'application/octet-stream' },
      });
      expect(res.status).toBe(401);
      expect(JSON.parse(res.body)).toEqual({ message: '401: Unauthorized', code: 0 });
      expect(h.upstream.requests.length).toBe(1);
    } finally {
      await h.close();
    }
  });

  it('passes the 401 through when the token hooks have no new token', async () => {
    const h = await startHarness({ tokens: tokenMap({ default: 'old-token-SECRET' }), answer: (r) => rejectOld(r) ?? {} });
    try {
      const res = await h.send(API);
      expect(res.status).toBe(401);
      expect(h.upstream.requests.length).toBe(1);
    } finally {
      await h.close();
    }
  });

  it('answers 502 when no credential can be had, naming the connection', async () => {
    const h = await startHarness({ tokens: tokenMap({}) });
    try {
      const res = await h.send(API);
      expect(res.status).toBe(502);
      expect(JSON.parse(res.body)).toMatchObject({ error: 'keygate_credential_unavailable' });
      expect(JSON.parse(res.body).message).toContain('discord/default');
      expect(h.upstream.requests.length).toBe(0);
    } finally {
      await h.close();
    }
  });
});
