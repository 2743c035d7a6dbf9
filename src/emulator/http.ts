// Small response and request helpers shared by the emulator's routes. Every answer goes through
// `reply`, which also writes the request log entry, so no route can forget to log.
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { EmulatorState } from './state.js';

/** One request being served. */
export interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  state: EmulatorState;
  method: string;
  /** Path without the query string. */
  path: string;
  /** Raw query string, without `?`. */
  query: string;
  /** Set by routes once they know which access token the request concerns. */
  tokenId: string | null;
  /** Admin routes are not logged. */
  log: boolean;
}

export type HeaderMap = Record<string, string>;

export function reply(ex: Exchange, status: number, body: string, contentType: string, headers?: HeaderMap): void {
  ex.res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  ex.res.end(body);
  if (ex.log) ex.state.record(ex.method, ex.path, status, ex.tokenId);
}

export function json(ex: Exchange, status: number, body: unknown, headers?: HeaderMap): void {
  reply(ex, status, JSON.stringify(body), 'application/json', headers);
}

export function redirect(ex: Exchange, location: string, status = 302): void {
  reply(ex, status, '', 'text/plain', { location });
}

/** Discord's generic API error body: `{"message": "404: Not Found", "code": 0}`. */
export function httpError(ex: Exchange, status: number, headers?: HeaderMap): void {
  json(ex, status, { message: `${status}: ${STATUS_CODES[status] ?? 'Error'}`, code: 0 }, headers);
}

/** Read a request body up to `limit` bytes; undefined if it is larger (the rest is discarded). */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) tooLarge = true;
    if (!tooLarge) chunks.push(chunk);
  }
  return tooLarge ? undefined : Buffer.concat(chunks);
}

/** The media type of a request, lower-cased, without parameters. */
export function mediaType(req: IncomingMessage): string {
  const value = req.headers['content-type'] ?? '';
  const semicolon = value.indexOf(';');
  return (semicolon === -1 ? value : value.slice(0, semicolon)).trim().toLowerCase();
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
