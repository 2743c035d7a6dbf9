// The answers keygate itself gives (as opposed to forwarding upstream's): short JSON bodies with an
// `error` code and a `message` saying what failed, never a secret.
import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { PROXY_REALM } from './auth.js';

export type ProxyErrorCode =
  | 'keygate_proxy_auth_required'
  | 'keygate_bad_request'
  | 'keygate_placeholder_refused'
  | 'keygate_misdirected_request'
  | 'keygate_plain_http_refused'
  | 'keygate_credential_unavailable'
  | 'keygate_upgrade_refused'
  | 'keygate_upstream_error';

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  403: 'Forbidden',
  407: 'Proxy Authentication Required',
  417: 'Expectation Failed',
  421: 'Misdirected Request',
  431: 'Request Header Fields Too Large',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  505: 'HTTP Version Not Supported',
};

export function errorBody(error: ProxyErrorCode, message: string): string {
  return JSON.stringify({ error, message });
}

/** Answer on an HTTP exchange keygate terminates (plain HTTP, or a request inside an intercepted tunnel). */
export function sendError(res: ServerResponse, status: number, error: ProxyErrorCode, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = errorBody(error, message);
  const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
  if (status === 407) headers['proxy-authenticate'] = `Basic realm="${PROXY_REALM}"`;
  res.writeHead(status, headers).end(body);
}

/** A whole error response as bytes to write on a connection keygate serves itself. */
export function errorResponse(status: number, error: ProxyErrorCode, message: string, close: boolean): string {
  const body = errorBody(error, message);
  const extra = status === 407 ? `Proxy-Authenticate: Basic realm="${PROXY_REALM}"\r\n` : '';
  return (
    `HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\n${extra}Content-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n${close ? 'Connection: close\r\n' : ''}\r\n${body}`
  );
}

/** Answer on a raw socket (a CONNECT request, a parse error) and close it. */
export function sendRawError(socket: Duplex, status: number, error: ProxyErrorCode, message: string): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(errorResponse(status, error, message, true));
}
