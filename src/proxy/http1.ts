// HTTP/1.1 message framing for intercepted tunnels (RFC 9112): request and response heads, and where
// a body ends. keygate forwards bytes, so it parses only what decides framing and the credential
// header, and it is strict wherever two parsers could disagree about where a message ends (request
// smuggling): both Content-Length and Transfer-Encoding, a duplicate or malformed Content-Length, a
// folded header line, a bare CR or LF, or a malformed chunk are refused, never guessed at.

/** A message keygate will not forward; `status` is what the client gets (400, 417, 431, 505), or 502 for a response. */
export class HttpParseError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpParseError';
  }
}

/** Heads larger than this are refused (431 for requests); node's default is 16 KiB. */
export const MAX_HEAD_BYTES = 64 * 1024;
const MAX_CHUNK_LINE = 4096;
const MAX_HEADERS = 500;

export type Framing = { kind: 'none' } | { kind: 'length'; length: number } | { kind: 'chunked' } | { kind: 'close' };

export interface RequestHead {
  method: string;
  /** As received: origin-form, absolute-form or `*`. */
  target: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minor: 0 | 1;
  /** Names and values as received (values without surrounding whitespace): [name, value, ...]. */
  rawHeaders: string[];
  framing: Framing;
  host: string | undefined;
  expectContinue: boolean;
  /** The Upgrade header's value (e.g. `websocket`), whether or not Connection lists it. */
  upgrade: string | undefined;
  /** The client wants the connection kept open after this exchange. */
  keepAlive: boolean;
  /** Lower-case names listed in Connection: they are hop-by-hop too. */
  connectionTokens: ReadonlySet<string> | undefined;
}

export interface ResponseHead {
  status: number;
  /** The status line as received, e.g. `HTTP/1.1 200 OK`. */
  statusLine: string;
  minor: 0 | 1;
  rawHeaders: string[];
  framing: Framing;
  /** The server keeps the connection open after this response. */
  keepAlive: boolean;
  /** From `Keep-Alive: timeout=N`, in ms. */
  keepAliveMs: number | undefined;
  connectionTokens: ReadonlySet<string> | undefined;
}

// RFC 9110 §7.6.1: connection-specific fields are not forwarded, in either direction. `Trailer`
// (§6.6.2) and `Expect` (§10.1.1) are end-to-end and go through; `Upgrade` requests never reach
// the forwarder (intercept.ts hands them to the upgrade hook or refuses them).
export const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'proxy-authenticate',
  'te',
  'upgrade',
  'http2-settings',
]);
/** Never dropped because a Connection header names them: keygate frames messages by them. */
const FRAMING = new Set(['content-length', 'transfer-encoding', 'host']);

/** True when `name` (lower case) is not forwarded: hop-by-hop, or listed in the message's Connection header. */
export function isHopByHop(lower: string, connectionTokens: ReadonlySet<string> | undefined): boolean {
  return HOP_BY_HOP.has(lower) || (connectionTokens !== undefined && connectionTokens.has(lower) && !FRAMING.has(lower));
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([\x21-\x7e]+) HTTP\/1\.([01])$/;
// RFC 9112 §3.2: origin-form, absolute-form, asterisk-form, or (CONNECT only) authority-form.
// In absolute-form the authority holds none of the characters RFC 3986 leaves out of a host (llhttp
// refuses them too); path and query are printable ASCII.
const TARGET = /^(?:\/[\x21-\x7e]*|\*|[A-Za-z]+:\/\/[^"#<>\\^`{|}/?\x00-\x20\x7f-\xff]+(?:[/?][\x21-\x7e]*)?)$/;
const AUTHORITY_TARGET = /^[^/?#@\s]+:\d+$/;
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: [\t\x20-\x7e\x80-\xff]*)?$/;
// Once the head is split at CRLF, no line may hold a CR or LF (RFC 9112 §2.2: a bare one is how
// headers get smuggled), NUL or another control but HTAB (RFC 9110 §5.5).
const BAD_LINE = /[\x00-\x08\x0a-\x1f\x7f]/;

/** Index of the CRLFCRLF that ends a head in `buffer`, searching from `from`; -1 when not there yet. */
function findHeadEnd(buffer: Buffer, from = 0): number {
  return buffer.indexOf('\r\n\r\n', from, 'latin1');
}

/**
 * The bytes of a connection as they arrive, cut into message heads: the one head-reading loop of
 * both sides (requests from the client, responses from upstream). What follows a head (a body, a
 * pipelined request) stays in `buffered` for the caller.
 */
export class HeadReader {
  private bytes: Buffer | undefined;
  /** Where the CRLFCRLF search resumes: the bytes before it were searched already. */
  private searchFrom = 0;

  /** `tooLarge` is thrown when MAX_HEAD_BYTES pass without a complete head (431 for requests, 502 for responses). */
  constructor(private readonly tooLargeStatus: number) {}

  get buffered(): Buffer | undefined {
    return this.bytes;
  }

  set buffered(bytes: Buffer | undefined) {
    this.bytes = bytes !== undefined && bytes.length > 0 ? bytes : undefined;
    this.searchFrom = 0;
  }

  append(chunk: Buffer): void {
    this.bytes = this.bytes ? Buffer.concat([this.bytes, chunk]) : chunk;
  }

  /** Takes the next complete head (latin1, without its CRLFCRLF) off the front; undefined until one is complete. Throws HttpParseError. */
  next(): string | undefined {
    const bytes = this.bytes;
    if (!bytes) return undefined;
    const end = findHeadEnd(bytes, this.searchFrom);
    if (end === -1) {
      if (bytes.length > MAX_HEAD_BYTES)
        throw new HttpParseError(this.tooLargeStatus, `${this.tooLargeStatus === 502 ? 'response' : 'request'} head too large`);
      // A bare LF can never become part of a valid head: refuse now rather than wait for more bytes.
      for (let lf = bytes.indexOf(0x0a, this.searchFrom); lf !== -1; lf = bytes.indexOf(0x0a, lf + 1)) {
        if (lf === 0 || bytes[lf - 1] !== 0x0d)
          throw new HttpParseError(this.tooLargeStatus === 502 ? 502 : 400, 'bare CR or LF in the message head');
      }
      this.searchFrom = Math.max(0, bytes.length - 3);
      return undefined;
    }
    this.searchFrom = 0;
    this.bytes = end + 4 < bytes.length ? bytes.subarray(end + 4) : undefined;
    return bytes.toString('latin1', 0, end);
  }
}

/** Parses a request head (the bytes before CRLFCRLF, as latin1). Throws HttpParseError. */
export function parseRequestHead(head: string): RequestHead {
  const lines = splitLines(head, 400);
  const match = REQUEST_LINE.exec(lines[0]);
  if (!match) {
    if (/ HTTP\/\d+\.\d+$/.test(lines[0]) && !/ HTTP\/1\.[01]$/.test(lines[0]))
      throw new HttpParseError(505, 'only HTTP/1.0 and HTTP/1.1 are supported inside the tunnel');
    throw new HttpParseError(400, 'malformed request line');
  }
  const minor = match[3] === '1' ? 1 : 0;
  if (!(match[1] === 'CONNECT' ? AUTHORITY_TARGET : TARGET).test(match[2])) throw new HttpParseError(400, 'malformed request target');
  const fields = parseFields(lines, 400);
  let host: string | undefined;
  let hosts = 0;
  let expect: string | undefined;
  let upgrade: string | undefined;
  for (let i = 0; i < fields.raw.length; i += 2) {
    const name = fields.raw[i];
    if (name.length === 4 && name.toLowerCase() === 'host') {
      hosts++;
      host = fields.raw[i + 1];
    } else if (name.length === 6 && name.toLowerCase() === 'expect') {
      expect = expect === undefined ? fields.raw[i + 1] : `${expect}, ${fields.raw[i + 1]}`;
    } else if (name.length === 7 && name.toLowerCase() === 'upgrade') {
      upgrade = upgrade === undefined ? fields.raw[i + 1] : `${upgrade}, ${fields.raw[i + 1]}`;
    }
  }
  // RFC 9112 §3.2: more than one Host is a 400.
  if (hosts > 1) throw new HttpParseError(400, 'more than one Host header');
  let framing = fields.framing(400);
  if (framing.kind === 'close') framing = { kind: 'none' }; // a request without framing headers has no body
  if (minor === 0 && fields.transferEncoding !== undefined) throw new HttpParseError(400, 'Transfer-Encoding in an HTTP/1.0 request');
  let expectContinue = false;
  if (expect !== undefined && minor === 1) {
    // RFC 9110 §10.1.1: 100-continue is the only expectation; anything else gets 417.
    if (expect.trim().toLowerCase() !== '100-continue') throw new HttpParseError(417, `unsupported expectation "${expect}"`);
    expectContinue = true;
  }
  const tokens = fields.connectionTokens;
  const keepAlive = minor === 1 ? !tokens?.has('close') : false;
  return {
    method: match[1],
    target: match[2],
    minor,
    rawHeaders: fields.raw,
    framing,
    host,
    expectContinue,
    upgrade,
    keepAlive,
    connectionTokens: tokens,
  };
}

/** Parses a response head (as latin1). `method` is the request's: HEAD responses have no body. Throws HttpParseError (status 502). */
export function parseResponseHead(head: string, method: string): ResponseHead {
  const lines = splitLines(head, 502);
  const statusLine = lines[0];
  const match = STATUS_LINE.exec(statusLine);
  if (!match) throw new HttpParseError(502, 'malformed status line');
  const status = Number(match[2]);
  const minor = match[1] === '1' ? 1 : 0;
  const fields = parseFields(lines, 502);
  // RFC 9112 §6.3: these never have a body, whatever the headers say.
  const bodiless = method === 'HEAD' || status < 200 || status === 204 || status === 304;
  // Framing headers are checked even where they do not apply: a malformed one means a broken or
  // hostile server whatever the status.
  const declared = fields.framing(502);
  const framing: Framing = bodiless ? { kind: 'none' } : declared;
  const tokens = fields.connectionTokens;
  const keepAlive = framing.kind !== 'close' && (minor === 1 ? !tokens?.has('close') : tokens?.has('keep-alive') === true);
  let keepAliveMs: number | undefined;
  if (fields.keepAliveHint !== undefined) {
    const timeout = /(?:^|[,\s])timeout=(\d{1,6})/i.exec(fields.keepAliveHint);
    if (timeout) keepAliveMs = Number(timeout[1]) * 1000;
  }
  return { status, statusLine, minor, rawHeaders: fields.raw, framing, keepAlive, keepAliveMs, connectionTokens: tokens };
}

function splitLines(head: string, status: number): string[] {
  // Leading empty lines before a request line may be ignored (RFC 9112 §2.2).
  let start = 0;
  while (head.startsWith('\r\n', start)) start += 2;
  const lines = (start === 0 ? head : head.slice(start)).split('\r\n');
  for (const line of lines) {
    const bad = BAD_LINE.exec(line);
    if (bad)
      throw new HttpParseError(
        status,
        bad[0] === '\r' || bad[0] === '\n' ? 'bare CR or LF in the message head' : 'control character in the message head',
      );
  }
  return lines;
}

interface Fields {
  raw: string[];
  transferEncoding: string | undefined;
  connectionTokens: Set<string> | undefined;
  keepAliveHint: string | undefined;
  framing(status: number): Framing;
}

function parseFields(lines: string[], status: number): Fields {
  if (lines.length - 1 > MAX_HEADERS) throw new HttpParseError(status === 400 ? 431 : status, 'too many header fields');
  const raw: string[] = [];
  let contentLength: string | undefined;
  let contentLengths = 0;
  let transferEncoding: string | undefined;
  let connectionTokens: Set<string> | undefined;
  let keepAliveHint: string | undefined;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const first = line.charCodeAt(0);
    // RFC 9112 §5.2: obs-fold (a line starting with SP or HTAB) is refused.
    if (first === 0x20 || first === 0x09) throw new HttpParseError(status, 'folded header line (obs-fold)');
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    // RFC 9112 §5.1: no whitespace between the name and the colon.
    if (!TOKEN.test(name)) throw new HttpParseError(status, 'malformed header line');
    const value = trimOws(line.slice(colon + 1));
    raw.push(name, value);
    switch (name.length) {
      case 10:
        if (name.toLowerCase() === 'connection') {
          connectionTokens ??= new Set();
          for (const token of value.split(',')) {
            const t = token.trim().toLowerCase();
            if (t !== '') connectionTokens.add(t);
          }
        } else if (name.toLowerCase() === 'keep-alive') keepAliveHint = value;
        break;
      case 14:
        if (name.toLowerCase() === 'content-length') {
          contentLengths++;
          // Whitespace after the number is refused, as llhttp refuses it: a length two parsers could
          // read differently is a smuggling vector.
          const last = line.charCodeAt(line.length - 1);
          contentLength = last === 0x20 || last === 0x09 ? 'malformed' : value;
        }
        break;
      case 17:
        if (name.toLowerCase() === 'transfer-encoding') {
          // Trailing whitespace: llhttp 9 stops reading `chunked` there; refused rather than guessed.
          const last = line.charCodeAt(line.length - 1);
          const coding = last === 0x20 || last === 0x09 ? '' : value;
          transferEncoding = transferEncoding === undefined ? coding : `${transferEncoding}, ${coding}`;
        }
        break;
    }
  }
  return {
    raw,
    transferEncoding,
    connectionTokens,
    keepAliveHint,
    framing(errorStatus) {
      if (transferEncoding !== undefined) {
        // RFC 9112 §6.1: a message with both is a smuggling attempt; a proxy must not forward it as is.
        if (contentLengths > 0) throw new HttpParseError(errorStatus, 'both Content-Length and Transfer-Encoding');
        const codings = transferEncoding.split(',').map((c) => c.trim().toLowerCase());
        // An empty coding (an empty field, or `chunked,`) is refused, as llhttp 9 refuses it.
        if (codings.includes('')) throw new HttpParseError(errorStatus, `malformed Transfer-Encoding "${transferEncoding}"`);
        const chunked = codings.filter((c) => c === 'chunked').length;
        if (codings.at(-1) === 'chunked' && chunked === 1) return { kind: 'chunked' };
        // RFC 9112 §6.3: chunked not last means a request's length cannot be known (400); a response
        // is then read until the server closes. Chunked twice is malformed either way.
        if (errorStatus === 400 || chunked > 0)
          throw new HttpParseError(errorStatus, `unsupported Transfer-Encoding "${transferEncoding}"`);
        return { kind: 'close' };
      }
      if (contentLengths > 1) throw new HttpParseError(errorStatus, 'more than one Content-Length header');
      if (contentLength !== undefined) {
        if (!/^\d{1,15}$/.test(contentLength)) throw new HttpParseError(errorStatus, 'malformed Content-Length');
        const length = Number(contentLength);
        return length === 0 ? { kind: 'none' } : { kind: 'length', length };
      }
      return { kind: 'close' };
    },
  };
}

function trimOws(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && (value.charCodeAt(start) === 0x20 || value.charCodeAt(start) === 0x09)) start++;
  while (end > start && (value.charCodeAt(end - 1) === 0x20 || value.charCodeAt(end - 1) === 0x09)) end--;
  return start === 0 && end === value.length ? value : value.slice(start, end);
}

/**
 * Finds where a message body ends as its bytes stream past. `feed` returns the index in `chunk`
 * just past the body's last byte, or -1 when all of chunk[start..] is body and more is to come.
 */
export interface BodyFramer {
  readonly done: boolean;
  feed(chunk: Buffer, start: number): number;
}

export function bodyFramer(framing: Framing, status = 400): BodyFramer {
  switch (framing.kind) {
    case 'none':
      return { done: true, feed: (_chunk, start) => start };
    case 'length':
      return new LengthFramer(framing.length);
    case 'chunked':
      return new ChunkedFramer(status);
    case 'close':
      return { done: false, feed: () => -1 };
  }
}

class LengthFramer implements BodyFramer {
  constructor(private remaining: number) {}

  get done(): boolean {
    return this.remaining === 0;
  }

  feed(chunk: Buffer, start: number): number {
    const available = chunk.length - start;
    if (available < this.remaining) {
      this.remaining -= available;
      return -1;
    }
    const end = start + this.remaining;
    this.remaining = 0;
    return end;
  }
}

const enum Chunk {
  Size,
  Extension,
  SizeLf,
  Data,
  DataCr,
  DataLf,
  TrailerStart,
  TrailerName,
  Trailer,
  TrailerLf,
  FinalLf,
  Done,
}

/** RFC 9112 §7.1 chunked framing: sizes in hex, each chunk followed by CRLF, then trailer fields and CRLF. */
class ChunkedFramer implements BodyFramer {
  private state = Chunk.Size;
  private size = 0;
  private digits = 0;
  private lineBytes = 0;
  private trailerBytes = 0;
  /** The current chunk's extensions, checked whole at the end of the size line. */
  private extension = '';

  constructor(private readonly status: number) {}

  get done(): boolean {
    return this.state === Chunk.Done;
  }

  feed(chunk: Buffer, start: number): number {
    let i = start;
    const n = chunk.length;
    while (i < n) {
      switch (this.state) {
        case Chunk.Data: {
          const take = Math.min(this.size, n - i);
          this.size -= take;
          i += take;
          if (this.size === 0) this.state = Chunk.DataCr;
          continue;
        }
        case Chunk.Size: {
          const c = chunk[i];
          const digit = hexValue(c);
          if (digit !== -1) {
            if (++this.digits > 13) throw this.error('chunk size too large');
            this.size = this.size * 16 + digit;
          } else if (this.digits > 0 && c === 0x3b /* ; */) {
            this.state = Chunk.Extension;
            this.extension = ';';
          } else if (this.digits > 0 && c === 0x0d) {
            this.state = Chunk.SizeLf;
          } else {
            throw this.error('malformed chunk size');
          }
          break;
        }
        case Chunk.Extension: {
          const c = chunk[i];
          if (c === 0x0d) {
            if (!CHUNK_EXTENSIONS.test(this.extension)) throw this.error('malformed chunk extension');
            this.state = Chunk.SizeLf;
          } else if (++this.lineBytes > MAX_CHUNK_LINE) throw this.error('chunk extension too long');
          else this.extension += String.fromCharCode(c);
          break;
        }
        case Chunk.SizeLf:
          if (chunk[i] !== 0x0a) throw this.error('chunk size line not ended by CRLF');
          this.lineBytes = 0;
          this.digits = 0;
          this.state = this.size === 0 ? Chunk.TrailerStart : Chunk.Data;
          break;
        case Chunk.DataCr:
          if (chunk[i] !== 0x0d) throw this.error('chunk data not followed by CRLF');
          this.state = Chunk.DataLf;
          break;
        case Chunk.DataLf:
          if (chunk[i] !== 0x0a) throw this.error('chunk data not followed by CRLF');
          this.state = Chunk.Size;
          break;
        case Chunk.TrailerStart: {
          const c = chunk[i];
          if (c === 0x0d) this.state = Chunk.FinalLf;
          else if (c === 0x20 || c === 0x09) throw this.error('folded trailer line (obs-fold)');
          else if (!TOKEN_BYTE[c]) throw this.error('malformed trailer line');
          else this.state = Chunk.TrailerName;
          break;
        }
        case Chunk.TrailerName: {
          // RFC 9110 §5.1: a field name is a token, followed by the colon with no whitespace.
          const c = chunk[i];
          if (c === 0x3a) this.state = Chunk.Trailer;
          else if (!TOKEN_BYTE[c]) throw this.error('malformed trailer line');
          if (++this.trailerBytes > MAX_HEAD_BYTES) throw this.error('trailer section too large');
          break;
        }
        case Chunk.Trailer: {
          const c = chunk[i];
          if (c === 0x0d) this.state = Chunk.TrailerLf;
          else if ((c < 0x20 && c !== 0x09) || c === 0x7f) throw this.error('control character in a trailer line');
          if (++this.trailerBytes > MAX_HEAD_BYTES) throw this.error('trailer section too large');
          break;
        }
        case Chunk.TrailerLf:
          if (chunk[i] !== 0x0a) throw this.error('trailer line not ended by CRLF');
          this.state = Chunk.TrailerStart;
          break;
        case Chunk.FinalLf:
          if (chunk[i] !== 0x0a) throw this.error('chunked body not ended by CRLF');
          this.state = Chunk.Done;
          return i + 1;
        case Chunk.Done:
          return i;
      }
      i++;
    }
    return this.state === Chunk.Done ? i : -1;
  }

  private error(message: string): HttpParseError {
    return new HttpParseError(this.status, message);
  }
}

// RFC 9112 §7.1.1: `;name` or `;name=value`, value a token or a quoted string. The optional
// whitespace (BWS) the grammar tolerates is refused: no client sends it, and parsers disagree on it.
const QUOTED = '"(?:[\\t \\x21\\x23-\\x5b\\x5d-\\x7e\\x80-\\xff]|\\\\[\\t \\x21-\\x7e\\x80-\\xff])*"';
const TOKEN_CHARS = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+";
const CHUNK_EXTENSIONS = new RegExp(`^(?:;${TOKEN_CHARS}(?:=(?:${TOKEN_CHARS}|${QUOTED}))?)+$`);

/** Bytes allowed in a token (RFC 9110 §5.6.2), indexed by byte value. */
const TOKEN_BYTE: readonly boolean[] = Array.from(
  { length: 256 },
  (_, c) => c < 0x80 && /[!#$%&'*+\-.^_`|~0-9A-Za-z]/.test(String.fromCharCode(c)),
);

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}
