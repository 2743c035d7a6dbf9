// Plain-HTTP proxy requests (absolute-form, `GET http://host/...`). Other hosts are forwarded
// untouched but for hop-by-hop fields, on Node's own HTTP client. A provider host is refused: its credential only ever travels over TLS to
// it, and forwarding without the credential would send the placeholder upstream in clear text and
// fail later with a confusing 401 instead of saying what to do now.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { type ConnectTarget, resolveTarget } from '../net.js';
import { isHopByHop } from './http1.js';
import { sendError } from './responses.js';
import { describeUpstreamError } from './upstream-errors.js';

export interface PlainForwarder {
  handle(req: IncomingMessage, res: ServerResponse): void;
  close(): void;
}

export function createPlainForwarder(options: {
  connectTo: Map<string, ConnectTarget>;
  isProviderHost: (host: string) => boolean;
}): PlainForwarder {
  const agent = new http.Agent({ keepAlive: true });
  return {
    handle(req, res) {
      let url: URL;
      try {
        url = new URL(req.url ?? '');
      } catch {
        return sendError(res, 400, 'keygate_bad_request', 'keygate is a proxy: send absolute-form requests (http://host/path) or CONNECT');
      }
      if (url.protocol !== 'http:') {
        return sendError(
          res,
          400,
          'keygate_bad_request',
          `keygate forwards only http:// URLs in plain requests; use CONNECT for ${url.protocol}`,
        );
      }
      const host = url.hostname.toLowerCase().replace(/\.$/, '');
      if (options.isProviderHost(host)) {
        return sendError(
          res,
          403,
          'keygate_plain_http_refused',
          `keygate refuses plain-HTTP requests to ${host}; use https://${host}${url.pathname}`,
        );
      }
      // The run's proxy credentials are for keygate only: never forwarded (they are hop-by-hop).
      const port = Number(url.port || 80);
      const target = resolveTarget(options.connectTo, url.hostname.replace(/^\[|\]$/g, ''), port);
      const upstream = http.request({
        host: target.host,
        port: target.port,
        method: req.method,
        path: `${url.pathname}${url.search}`,
        headers: withHost(endToEnd(req.rawHeaders), url.host),
        setHost: false,
        agent,
      });
      upstream.setTimeout(UPSTREAM_TIMEOUT_MS, () =>
        upstream.destroy(Object.assign(new Error('upstream timed out'), { code: 'ETIMEDOUT' })),
      );
      upstream.on('response', (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.statusMessage, endToEnd(answer.rawHeaders));
        answer.pipe(res);
        answer.on('error', () => res.destroy());
      });
      upstream.on('error', (err) => sendError(res, 502, 'keygate_upstream_error', describeUpstreamError(err, url.hostname, port)));
      res.on('close', () => {
        if (!res.writableFinished) upstream.destroy();
      });
      req.pipe(upstream);
    },
    close() {
      agent.destroy();
    },
  };
}

const UPSTREAM_TIMEOUT_MS = 300_000;

/** An HTTP/1.0 request may come without Host: the one from its absolute-form target is added. */
function withHost(raw: string[], host: string): string[] {
  for (let i = 0; i < raw.length; i += 2) if (raw[i].toLowerCase() === 'host') return raw;
  return ['Host', host, ...raw];
}

/** A raw header list without its hop-by-hop fields (RFC 9110 §7.6.1), names as received. */
function endToEnd(raw: string[]): string[] {
  const tokens = new Set<string>();
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].toLowerCase() === 'connection') for (const t of raw[i + 1].split(',')) tokens.add(t.trim().toLowerCase());
  }
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (!isHopByHop(raw[i].toLowerCase(), tokens)) out.push(raw[i], raw[i + 1]);
  return out;
}
