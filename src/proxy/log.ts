// The request log: one JSON line per request the proxy handled for a provider host, appended to
// KEYGATE_HOME/logs/requests.jsonl (0600, capped, one rotated file kept). Entries hold names and
// shapes only: never a credential, a placeholder, a query value or a token-like path segment.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';

export interface RequestLogEntry {
  /** ISO 8601 UTC time the request arrived. */
  time: string;
  method: string;
  host: string;
  /** Path with query values and token-like segments redacted (see redactPath). */
  path: string;
  /** Status sent to the client (502 when upstream failed, 4xx when keygate refused). */
  status: number;
  provider: string;
  /** The connection whose credential was sent; null when none was (refused, or the request brought its own). */
  connection: string | null;
  duration_ms: number;
  /** What keygate did: injected, passed (request's own credential), refused, replayed (after a 401). */
  /** `relayed`: a WebSocket keygate relays (a bot gateway: the placeholder replaced in IDENTIFY/RESUME). */
  action: 'injected' | 'passed' | 'refused' | 'replayed' | 'relayed';
  /** Why keygate refused or what failed upstream; never holds a secret. */
  error?: string;
}

export const LOG_FILE = path.join('logs', 'requests.jsonl');
const MAX_BYTES = 5 * 1024 * 1024;
const FLUSH_MS = 200;
const FLUSH_ENTRIES = 500;
const REDACTED = '…';

/**
 * Query values go (`?token=…`), and so does any path segment that looks like a secret, because some
 * APIs put tokens in paths (Discord webhooks: /webhooks/{id}/{token}). Long runs of digits (Discord
 * snowflakes) stay: they are ids, and the log is useless without them.
 */
export function redactPath(target: string): string {
  const q = target.indexOf('?');
  const pathname = q === -1 ? target : target.slice(0, q);
  let out = pathname.length < 24 ? pathname : pathname.split('/').map(redactSegment).join('/');
  if (q !== -1) {
    const query = target
      .slice(q + 1)
      .split('&')
      .map((pair) => {
        const eq = pair.indexOf('=');
        return eq === -1 ? pair : `${pair.slice(0, eq)}=${REDACTED}`;
      });
    out += `?${query.join('&')}`;
  }
  return out.length > 300 ? `${out.slice(0, 300)}${REDACTED}` : out;
}

function redactSegment(segment: string): string {
  return segment.length >= 24 && !/^\d+$/.test(segment) ? REDACTED : segment;
}

/** One line for humans: `12:00:01.234 GET discord.com/api/v10/users/@me → 200 discord/default 12 ms`. */
export function formatLogEntry(entry: RequestLogEntry): string {
  const who = entry.connection ? `${entry.provider}/${entry.connection}` : `${entry.provider} (${entry.action})`;
  const replay = entry.action === 'replayed' ? ' (replayed after 401)' : '';
  const why = entry.error ? ` — ${entry.error}` : '';
  return `${entry.time} ${entry.method} ${entry.host}${entry.path} → ${entry.status} ${who} ${entry.duration_ms} ms${replay}${why}`;
}

/**
 * Appends entries to the log file. Entries are batched and written every FLUSH_MS (or when the batch
 * grows), so a request costs no file I/O and no serialisation: a write per request would cost a
 * thread-pool round trip each.
 */
export class RequestLog {
  private fd: number | undefined;
  private bytes = 0;
  private batch: RequestLogEntry[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly file: string;

  constructor(home: string) {
    this.file = path.join(home, LOG_FILE);
  }

  /** Keeps `entry` (not to be changed afterwards) for the next flush: no work on the request's path. */
  append(entry: RequestLogEntry): void {
    this.batch.push(entry);
    if (this.batch.length >= FLUSH_ENTRIES) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), FLUSH_MS).unref();
  }

  /** Writes what is batched (synchronously: also called on the way out). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.batch.length === 0) return;
    let text = '';
    for (const entry of this.batch) text += `${JSON.stringify(entry)}\n`;
    const data = Buffer.from(text);
    this.batch = [];
    try {
      if (this.fd === undefined) this.open();
      if (this.bytes > 0 && this.bytes + data.length > MAX_BYTES) this.rotate();
      fs.writeSync(this.fd!, data);
      this.bytes += data.length;
    } catch {
      // A log that cannot be written must not take the proxy down; the requests themselves went through.
    }
  }

  close(): Promise<void> {
    this.flush();
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
    return Promise.resolve();
  }

  private open(): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    this.fd = fs.openSync(this.file, 'a', 0o600);
    fs.fchmodSync(this.fd, 0o600);
    this.bytes = fs.fstatSync(this.fd).size;
  }

  private rotate(): void {
    fs.closeSync(this.fd!);
    this.fd = undefined;
    try {
      fs.renameSync(this.file, `${this.file}.1`);
    } catch {
      // Another run rotated it first.
    }
    this.open();
  }
}

/** The last `limit` entries, oldest first (the rotated file first, then the current one). */
export async function readRequestLog(home: string, limit: number): Promise<RequestLogEntry[]> {
  const file = path.join(home, LOG_FILE);
  const entries: RequestLogEntry[] = [];
  for (const name of [`${file}.1`, file]) {
    const text = await fsp.readFile(name, 'utf8').catch(() => '');
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      try {
        entries.push(JSON.parse(line) as RequestLogEntry);
      } catch {
        // A line torn by a crash mid-write is skipped.
      }
    }
  }
  return entries.slice(-limit);
}
