// TLS session resumption on intercepted tunnels: a client that reconnects skips the full handshake.
import tls from 'node:tls';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Harness, removeTempDirs, startHarness } from '../fixtures/proxy-harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
  removeTempDirs();
});

it('resumes TLS sessions (tickets) across tunnels', async () => {
  const first = await h.connect('discord.com:443');
  const secure = await h.tls(first.socket, 'discord.com');
  const session = await new Promise<Buffer>((resolve) => secure.once('session', resolve));
  secure.destroy();
  const second = await h.connect('discord.com:443');
  const resumed = await new Promise<tls.TLSSocket>((resolve, reject) => {
    const socket = tls.connect({ socket: second.socket, servername: 'discord.com', ca: h.ca.certPem, session }, () => resolve(socket));
    socket.once('error', reject);
  });
  expect(resumed.isSessionReused()).toBe(true);
  resumed.destroy();
});
