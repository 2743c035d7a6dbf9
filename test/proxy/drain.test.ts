// Backpressure listeners and pooled sockets. An UpstreamAttempt relays a response to a client that
// cannot take more (its write returned false), so it pauses the upstream socket until the client
// drains. When the response ends right then, the upstream socket goes back to the pool for another
// tunnel, and the client connection serves its next request: a drain listener left behind would
// later resume a socket that someone else paused for their own backpressure. Real TLS sockets.
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpstreamAttempt } from '../../src/proxy/exchange.js';
import { UpstreamPool } from '../../src/proxy/upstream.js';
import { parseConnectTo } from '../../src/net.js';
import { removeTempDirs, tempDir } from '../fixtures/proxy-harness.js';
import { type TestCa, testCa } from '../fixtures/servers.js';

let ca: TestCa;
let upstream: tls.Server;
let upstreamPort: number;
/** A TLS server standing for the client's side of a tunnel: keygate writes to `serverSide`. */
let clientServer: tls.Server;

beforeAll(async () => {
  ca = await testCa(tempDir());
  const leaf = await ca.issue(['discord.com', 'localhost']);
  // Answers every request head with a small response, head and body in one write.
  upstream = tls.createServer({ cert: leaf.certPem, key: leaf.keyPem }, (socket) => {
    socket.on('data', () => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello'));
    socket.on('error', () => undefined);
  });
  clientServer = tls.createServer({ cert: leaf.certPem, key: leaf.keyPem });
  await Promise.all([
    new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r)),
    new Promise<void>((r) => clientServer.listen(0, '127.0.0.1', r)),
  ]);
  upstreamPort = (upstream.address() as net.AddressInfo).port;
});

afterAll(async () => {
  await new Promise((r) => upstream.close(r));
  await new Promise((r) => clientServer.close(r));
  removeTempDirs();
});

/** keygate's side of a client connection whose reader reads nothing, with its send buffer full. */
async function backedUpClient(): Promise<{ serverSide: tls.TLSSocket; reader: tls.TLSSocket }> {
  const accepted = new Promise<tls.TLSSocket>((resolve) => clientServer.once('secureConnection', resolve));
  const reader = tls.connect({
    port: (clientServer.address() as net.AddressInfo).port,
    host: '127.0.0.1',
    servername: 'localhost',
    ca: ca.certPem,
  });
  reader.pause();
  const serverSide = await accepted;
  // Far past the high-water mark: every further write returns false until the reader reads.
  serverSide.write(Buffer.alloc(4 * 1024 * 1024));
  return { serverSide, reader };
}

describe('drain listeners belong to the attempt', () => {
  it('a response that ends while the client is backed up leaves no listener and no paused socket behind', async () => {
    const pool = new UpstreamPool(parseConnectTo(`discord.com:443:127.0.0.1:${upstreamPort}`), [ca.certPem]);
    try {
      const { serverSide, reader } = await backedUpClient();
      const drainsBefore = serverSide.listenerCount('drain');
      const connection = await pool.connect('discord.com', 443);
      const outcome = await new Promise<{ kind: string }>((resolve) => {
        const attempt = new UpstreamAttempt(
          connection,
          serverSide,
          { method: 'GET', keepAlive: true, http11: true, holdUnauthorized: () => false, bodyDone: () => true, expectContinue: false },
          (o) => {
            // At the end of the response: it was relayed under backpressure, and nothing is left waiting.
            expect(attempt.waitingForDrain).toBe(0);
            resolve(o);
          },
        );
        attempt.write('GET /api/v10/users/@me HTTP/1.1\r\nHost: discord.com\r\n\r\n');
      });
      expect(outcome.kind).toBe('response');
      expect(serverSide.writableNeedDrain).toBe(true); // the relay really hit backpressure
      expect(serverSide.listenerCount('drain')).toBe(drainsBefore);
      // The upstream socket can serve its next user, in whichever tunnel that is.
      expect(connection.socket.isPaused()).toBe(false);
      pool.release(connection);

      // The pooled connection's next user pauses it for its own slow client; the first client
      // draining now must not resume it.
      const second = await backedUpClient();
      const again = pool.take('discord.com', 443)!;
      expect(again).toBe(connection);
      again.socket.pause();
      reader.resume(); // the first client drains
      await new Promise<void>((resolve) => serverSide.once('drain', () => setImmediate(resolve)));
      expect(again.socket.isPaused()).toBe(true);
      for (const s of [serverSide, reader, second.serverSide, second.reader]) s.destroy();
      again.destroy();
    } finally {
      pool.close();
    }
  });
});
