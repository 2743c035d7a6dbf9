// A free TCP port on 127.0.0.1, for servers that must be told their port before they start
// (the login callback in `keygate demo`, tests). Bound briefly, then released.
import net from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
