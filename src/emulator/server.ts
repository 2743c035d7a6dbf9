// The HTTPS server and its routing table. One handler serves the authorize page, the token
// endpoints, the REST API and the admin API; paths are matched by string, without a router library.
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KeygateError } from '../errors.js';
import { admin } from './admin.js';
import { api } from './api.js';
import { approve, authorize, withParams } from './authorize.js';
import { decideConsent } from './consent.js';
import type { EmulatorControls } from './controls.js';
import { httpError, type Exchange } from './http.js';
import type { EmulatorState } from './state.js';
import { revoke, token } from './token.js';

/** Discord serves its API under /api (the default version), /api/v9 and /api/v10. */
const API_PREFIX = /^\/api(?:\/v(?:9|10))?(?=\/)/;

export function createHandler(state: EmulatorState, controls: EmulatorControls) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    // The emulator's clock, not the host's: a test that skews it sees what `keygate doctor` sees
    // when the provider and this machine disagree on the time.
    res.setHeader('date', new Date(state.now()).toUTCString());
    const ex: Exchange = {
      req,
      res,
      state,
      method: req.method ?? 'GET',
      path: q === -1 ? url : url.slice(0, q),
      query: q === -1 ? '' : url.slice(q + 1),
      tokenId: null,
      log: true,
    };
    route(ex, controls).catch((err: unknown) => {
      // A bug in the emulator, or a client that went away mid-body. Never on stdout (benchmarks).
      if (process.env.KEYGATE_DEBUG === '1') process.stderr.write(`emulator: ${ex.method} ${ex.path}: ${String(err)}\n`);
      if (!res.headersSent && !res.destroyed) httpError(ex, 500);
      else res.destroy();
    });
  };
}

async function route(ex: Exchange, controls: EmulatorControls): Promise<void> {
  const { path } = ex;
  if (path.startsWith('/__emulator/')) return admin(ex, controls);
  if (path === '/oauth2/authorize') {
    // POST is the consent page's form, which only exists when the emulator shows that page.
    if (ex.method === 'POST' && ex.state.consentMode === 'page') return decideConsent(ex, approve, withParams);
    return only(ex, 'GET', authorize);
  }
  const prefix = API_PREFIX.exec(path);
  if (!prefix) return httpError(ex, 404);
  const rest = path.slice(prefix[0].length);
  if (rest === '/oauth2/authorize') return only(ex, 'GET', authorize);
  if (rest === '/oauth2/token') return only(ex, 'POST', token);
  if (rest === '/oauth2/token/revoke') return only(ex, 'POST', revoke);
  return api(ex, rest);
}

function only(ex: Exchange, method: string, handle: (ex: Exchange) => void | Promise<void>): void | Promise<void> {
  return ex.method === method ? handle(ex) : httpError(ex, 405);
}

export interface ListeningServer {
  server: https.Server;
  port: number;
}

export async function listen(
  tls: { cert: string; key: string },
  port: number,
  handler: ReturnType<typeof createHandler>,
): Promise<ListeningServer> {
  const server = https.createServer({ cert: tls.cert, key: tls.key }, handler);
  // Long-lived keep-alive connections, as a CDN front end keeps them; clients close first.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 70_000;
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'EADDRINUSE'
          ? new KeygateError(`port ${port} is already in use`, { hint: 'pick another --port, or omit it for a random one', cause: err })
          : err,
      );
    };
    server.once('error', onError);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', onError);
      resolve();
    });
  });
  return { server, port: (server.address() as AddressInfo).port };
}

export async function close(server: https.Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
}
