// Blind tunnels: CONNECT to any host that is not a provider API host. Bytes are relayed untouched;
// keygate never sees inside them, so nothing there can ever receive a credential.
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { ConnectTarget } from '../net.js';
import { sendRawError } from './responses.js';
import { describeUpstreamError } from './upstream-errors.js';

const CONNECT_TIMEOUT_MS = 10_000;

export function openTunnel(
  client: Duplex,
  head: Buffer,
  authority: ConnectTarget,
  target: ConnectTarget,
  track: (socket: net.Socket) => void,
): void {
  const upstream = net.connect({ host: target.host, port: target.port });
  track(upstream);
  upstream.setTimeout(CONNECT_TIMEOUT_MS, () => upstream.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })));
  let established = false;
  upstream.once('connect', () => {
    established = true;
    upstream.setTimeout(0);
    upstream.setNoDelay(true);
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) upstream.write(head);
    upstream.pipe(client);
    client.pipe(upstream);
  });
  upstream.on('error', (err) => {
    if (!established) sendRawError(client, 502, 'keygate_upstream_error', describeUpstreamError(err, authority.host, authority.port));
    else client.destroy();
  });
  upstream.on('close', () => client.destroy());
  client.on('error', () => upstream.destroy());
  client.on('close', () => upstream.destroy());
}
