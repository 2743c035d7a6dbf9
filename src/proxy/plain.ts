// Plain-HTTP proxy requests (absolute-form, `GET http://host/...`). Other hosts are forwarded
// untouched (http-proxy). A provider host is refused: its credential only ever travels over TLS to
// it, and forwarding without the credential would send the placeholder upstream in clear text and
// fail later with a confusing 401 instead of saying what to do now.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type HttpProxy from 'http-proxy';
import { type ConnectTarget, resolveTarget } from '../net.js';
import { sendError } from './responses.js';
import { describeUpstreamError } from './upstream-errors.js';

export interface PlainForwarder {
  handle(req: IncomingMessage, res: ServerResponse): void;
  close(): void;
}

export function createPlainForwarder(options: { connectTo: Map<string, ConnectTarget>; isProviderHost: (host: string) => boolean }): PlainForwarder {
  // Without an agent http-proxy sends `Connection: close` upstream; a keep-alive agent reuses connections.
  const agent = new http.Agent({ keepAlive: true });
  // http-proxy costs ~40 ms to load and most runs never send plain HTTP: loaded on the first such request.
  let proxy: Promise<HttpProxy> | undefined;
  const load = (): Promise<HttpProxy> =>
    (proxy ??= import('http-proxy').then(({ default: httpProxy }) =>
      httpProxy.createProxyServer({ agent, xfwd: false, changeOrigin: false, preserveHeaderKeyCase: true, proxyTimeout: 300_000 }),
    ));
  return {
    handle(req, res) {
      let url: URL;
      try {
        url = new URL(req.url ?? '');
      } catch {
        return sendError(res, 400, 'keygate_bad_request', 'keygate is a proxy: send absolute-form requests (http://host/path) or CONNECT');
      }
      if (url.protocol !== 'http:') {
        return sendError(res, 400, 'keygate_bad_request', `keygate forwards only http:// URLs in plain requests; use CONNECT for ${url.protocol}`);
      }
      const host = url.hostname.toLowerCase().replace(/\.$/, '');
      if (options.isProviderHost(host)) {
        return sendError(res, 403, 'keygate_plain_http_refused', `keygate refuses plain-HTTP requests to ${host}; use https://${host}${url.pathname}`);
      }
      // The run's proxy credentials are for keygate only: never forwarded.
      delete req.headers['proxy-authorization'];
      delete req.headers['proxy-connection'];
      const port = Number(url.port || 80);
      const target = resolveTarget(options.connectTo, url.hostname.replace(/^\[|\]$/g, ''), port);
      const host6 = target.host.includes(':') ? `[${target.host}]` : target.host;
      load().then(
        (forwarder) =>
          forwarder.web(req, res, { target: `http://${host6}:${target.port}` }, (err) => {
            sendError(res, 502, 'keygate_upstream_error', describeUpstreamError(err, url.hostname, port));
          }),
        () => sendError(res, 502, 'keygate_upstream_error', 'keygate could not load its HTTP forwarder'),
      );
    },
    close() {
      void proxy?.then((forwarder) => forwarder.close());
      agent.destroy();
    },
  };
}
