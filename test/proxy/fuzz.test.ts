// Differential fuzzing of keygate's HTTP/1.1 framing (http1.ts) against Node's own parser, llhttp,
// reached through real sockets: an http.Server parses the request side, an http client the response
// side. Inputs are random request and response messages (pipelined, chunked, with conflicting
// framing headers), then randomly mutated bytes. The properties:
// - every message llhttp rejects, keygate rejects (at that message or earlier): keygate never
//   forwards what the server's parser would refuse, so the two cannot disagree about framing;
// - where both accept a message, they agree on method, target, header list and body.
// keygate may refuse more (it is stricter on purpose). One exception is allowed and counted:
// llhttp refuses request methods outside its built-in list, which RFC 9110 §9.1 allows and keygate
// forwards. Bounded in time so CI stays fast; the case counts are printed.
import http from 'node:http';
import net from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeadReader, HttpParseError, bodyFramer, parseRequestHead, parseResponseHead } from '../../src/proxy/http1.js';

// KEYGATE_FUZZ_RUNS and KEYGATE_FUZZ_MS run it longer by hand; CI keeps the defaults.
const TIME_LIMIT_MS = Number(process.env.KEYGATE_FUZZ_MS ?? 8_000);
const RUNS = Number(process.env.KEYGATE_FUZZ_RUNS ?? 400);

interface Message {
  method?: string;
  status?: number;
  target?: string;
  headers: string[];
  body: string;
}

/** What a parser made of a byte stream: the messages it accepted, then why it stopped. */
interface Parsed {
  messages: Message[];
  /** `waiting`: keygate has part of a head and forwarded nothing of it yet (it checks a whole head
   * before forwarding any of it). `closed`: keygate reads nothing after the last message (it closes the connection), which
   * refuses whatever follows as surely as a parse error does. */
  end: 'rejected' | 'incomplete' | 'done' | 'closed' | 'waiting';
  reason?: string;
  /** keygate: the method of a request whose body was still incomplete. */
  method?: string;
}

// ---- keygate's side: the parsing the tunnel and the upstream attempt do, on the same bytes ----

function keygateRequests(bytes: Buffer): Parsed {
  const reader = new HeadReader(431);
  reader.append(bytes);
  const messages: Message[] = [];
  try {
    for (;;) {
      const text = reader.next();
      if (text === undefined)
        return { messages, end: reader.buffered && reader.buffered.toString('latin1').replace(/^(\r\n)+/, '') !== '' ? 'waiting' : 'done' };
      const head = parseRequestHead(text);
      const { body, complete } = readBody(reader, head.framing, 400);
      if (!complete) return { messages, end: 'incomplete', method: head.method };
      messages.push({
        method: head.method,
        target: head.target,
        headers: head.rawHeaders,
        body: decode(body, head.framing.kind === 'chunked'),
      });
      if (!head.keepAlive) return { messages, end: reader.buffered ? 'closed' : 'done' };
    }
  } catch (err) {
    if (!(err instanceof HttpParseError)) throw err;
    return { messages, end: 'rejected', reason: err.message };
  }
}

function keygateResponse(bytes: Buffer): Parsed {
  const reader = new HeadReader(502);
  reader.append(bytes);
  try {
    const text = reader.next();
    if (text === undefined) return { messages: [], end: 'waiting' };
    const head = parseResponseHead(text, 'GET');
    if (head.framing.kind === 'close')
      return {
        messages: [{ status: head.status, headers: head.rawHeaders, body: (reader.buffered ?? Buffer.alloc(0)).toString('latin1') }],
        end: 'done',
      };
    const { body, complete } = readBody(reader, head.framing, 502);
    if (!complete) return { messages: [], end: 'incomplete' };
    // Bytes after the response: the upstream connection is dropped, never read as a next response.
    return {
      messages: [{ status: head.status, headers: head.rawHeaders, body: decode(body, head.framing.kind === 'chunked') }],
      end: reader.buffered ? 'closed' : 'done',
    };
  } catch (err) {
    if (!(err instanceof HttpParseError)) throw err;
    return { messages: [], end: 'rejected', reason: err.message };
  }
}

function readBody(reader: HeadReader, framing: Parameters<typeof bodyFramer>[0], status: number): { body: Buffer; complete: boolean } {
  const framer = bodyFramer(framing, status);
  if (framer.done) return { body: Buffer.alloc(0), complete: true };
  const rest = reader.buffered ?? Buffer.alloc(0);
  const end = framer.feed(rest, 0);
  if (end === -1) return { body: rest, complete: false };
  reader.buffered = rest.subarray(end);
  return { body: rest.subarray(0, end), complete: true };
}

/** The payload of a body keygate framed (chunk sizes, extensions and trailers taken out). */
function decode(body: Buffer, chunked: boolean): string {
  if (!chunked) return body.toString('latin1');
  let out = '';
  let at = 0;
  for (;;) {
    const lineEnd = body.indexOf('\r\n', at);
    const size = Number.parseInt(body.toString('latin1', at, lineEnd).split(';')[0], 16);
    if (size === 0) return out;
    out += body.toString('latin1', lineEnd + 2, lineEnd + 2 + size);
    at = lineEnd + 2 + size + 2;
  }
}

// ---- llhttp's side, through Node's http server and client ----

let server: http.Server;
let serverPort: number;
const cases = new Map<number, Parsed>();

function startServer(): Promise<void> {
  server = http.createServer({ requireHostHeader: false }, (req, res) => {
    // Keyed by the client's port: the server sees it as the remote port.
    const record = cases.get(req.socket.remotePort!)!;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      record.messages.push({
        method: req.method,
        target: req.url,
        headers: req.rawHeaders,
        body: Buffer.concat(chunks).toString('latin1'),
      });
      res.end();
    });
  });
  server.on('clientError', (err: Error & { code?: string }, socket: net.Socket) => {
    const record = cases.get(socket.remotePort!);
    if (record && record.end !== 'rejected') {
      // An error at the end of the bytes only means the input stopped mid-message.
      record.end = err.code === 'HPE_INVALID_EOF_STATE' || err.code === 'ECONNRESET' ? 'incomplete' : 'rejected';
      record.reason = err.code;
    }
    socket.destroy();
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
}

function llhttpRequests(bytes: Buffer): Promise<Parsed> {
  return new Promise((resolve) => {
    const socket = net.connect(serverPort, '127.0.0.1', () => {
      cases.set(socket.localPort!, record);
      socket.end(bytes);
    });
    const record: Parsed = { messages: [], end: 'done' };
    socket.on('error', () => undefined);
    socket.resume();
    socket.on('close', () => {
      cases.delete(socket.localPort!);
      resolve(record);
    });
  });
}

function llhttpResponse(bytes: Buffer): Promise<Parsed> {
  return new Promise((resolve) => {
    const raw = net.createServer((socket) => {
      socket.on('error', () => undefined);
      socket.once('data', () => socket.end(bytes));
    });
    raw.listen(0, '127.0.0.1', () => {
      const record: Parsed = { messages: [], end: 'done' };
      const finish = () => raw.close(() => resolve(record));
      const req = http.get({ host: '127.0.0.1', port: (raw.address() as net.AddressInfo).port, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          record.messages.push({ status: res.statusCode, headers: res.rawHeaders, body: Buffer.concat(chunks).toString('latin1') });
          finish();
        });
        res.on('error', () => {
          record.end = 'incomplete';
          finish();
        });
      });
      req.on('error', (err: Error & { code?: string }) => {
        record.end = err.code === 'ECONNRESET' || err.code === 'HPE_INVALID_EOF_STATE' ? 'incomplete' : 'rejected';
        record.reason = err.code;
        finish();
      });
    });
  });
}

// ---- inputs ----

const token = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}$/);
const headerName = fc.oneof(
  fc.constantFrom('Host', 'Content-Length', 'Transfer-Encoding', 'Connection', 'Authorization', 'Trailer', 'Keep-Alive', 'X-Test'),
  token,
);
const headerValue = fc.oneof(
  fc.constantFrom(
    'discord.com',
    'chunked',
    'gzip, chunked',
    'chunked, gzip',
    'close',
    'keep-alive',
    '5',
    '0',
    ' 7 ',
    '+5',
    '5, 5',
    '00012',
    '99999999999999999',
    'Bearer kgph_x',
  ),
  fc.stringMatching(/^[\x20-\x7e\t]{0,20}$/),
);
const methods = http.METHODS.filter((m) => m !== 'CONNECT');
const target = fc.oneof(
  fc.constantFrom('/', '/api/v10/users/@me', '*', 'https://discord.com/x?y=1', '/a%20b'),
  fc.stringMatching(/^\/[A-Za-z0-9._~%!$&'()*+,;=:@/?-]{0,24}$/),
);
const payload = fc.stringMatching(/^[\x00-\xff]{0,40}$/);

/** A well-framed message (length, chunked or none) with random extra headers, sometimes conflicting. */
function message(startLine: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc
    .record({
      start: startLine,
      extra: fc.array(fc.tuple(headerName, headerValue), { maxLength: 4 }),
      framing: fc.constantFrom('length', 'chunked', 'none'),
      body: payload,
      chunks: fc.array(fc.tuple(payload, fc.constantFrom('', ';ext=1', ';a="b"')), { maxLength: 3 }),
      trailer: fc.constantFrom('', 'X-Sum: 1\r\n'),
    })
    .map(({ start, extra, framing, body, chunks, trailer }) => {
      let head = `${start}\r\n`;
      for (const [name, value] of extra) head += `${name}: ${value}\r\n`;
      if (framing === 'length') return `${head}Content-Length: ${body.length}\r\n\r\n${body}`;
      if (framing === 'chunked') {
        const data = chunks
          .filter(([c]) => c.length > 0)
          .map(([c, ext]) => `${c.length.toString(16)}${ext}\r\n${c}\r\n`)
          .join('');
        return `${head}Transfer-Encoding: chunked\r\n\r\n${data}0\r\n${trailer}\r\n`;
      }
      return `${head}\r\n`;
    });
}

const requestLine = fc
  .tuple(fc.constantFrom(...methods), target, fc.constantFrom('1.1', '1.1', '1.0'))
  .map(([m, t, v]) => `${m} ${t} HTTP/${v}`);
const statusLine = fc
  .tuple(fc.constantFrom('1.1', '1.1', '1.0'), fc.integer({ min: 200, max: 599 }), fc.constantFrom(' OK', ' Not Found', '', ' '))
  .map(([v, s, r]) => `HTTP/${v} ${s}${r}`);

const INTERESTING = [0x0d, 0x0a, 0x20, 0x09, 0x3a, 0x00, 0x3b, 0x30, 0x61, 0x7f, 0x80, 0x2c, 0x22];
/** Random byte edits: overwrite, insert, delete, with bytes that matter to HTTP framing. */
const mutated = (input: fc.Arbitrary<string>) =>
  fc
    .tuple(
      input,
      fc.array(fc.tuple(fc.nat(), fc.constantFrom('set', 'insert', 'delete'), fc.constantFrom(...INTERESTING)), { maxLength: 3 }),
    )
    .map(([text, edits]) => {
      const bytes = [...Buffer.from(text, 'latin1')];
      for (const [at, kind, byte] of edits) {
        if (bytes.length === 0) break;
        const i = at % bytes.length;
        if (kind === 'set') bytes[i] = byte;
        else if (kind === 'insert') bytes.splice(i, 0, byte);
        else bytes.splice(i, 1);
      }
      return Buffer.from(bytes);
    });

const requests = mutated(fc.array(message(requestLine), { minLength: 1, maxLength: 3 }).map((list) => list.join('')));
const responses = mutated(message(statusLine));

// ---- the properties ----

const stats = { requests: 0, responses: 0, keygateStricter: 0, extensionMethods: 0 };

function agree(k: Parsed, l: Parsed, bytes: Buffer): void {
  const context = `input ${JSON.stringify(bytes.toString('latin1'))}\nkeygate ${JSON.stringify(k)}\nllhttp ${JSON.stringify(l)}`;
  // Messages both accepted agree on their framing.
  const both = Math.min(k.messages.length, l.messages.length);
  for (let i = 0; i < both; i++) expect(k.messages[i], context).toEqual(l.messages[i]);
  if (l.end === 'rejected') {
    const llhttpFailedAt = l.messages.length;
    // keygate accepted no message llhttp rejected: it stopped (rejected, or is still waiting for
    // bytes that never came) at that message or before.
    expect(k.messages.length, context).toBeLessThanOrEqual(llhttpFailedAt);
    if (k.messages.length === llhttpFailedAt) expect(['rejected', 'closed', 'waiting'], context).toContain(k.end);
  }
  if (k.messages.length < l.messages.length || (k.end === 'rejected' && l.end !== 'rejected')) stats.keygateStricter++;
}

describe('keygate framing against llhttp (differential fuzzing)', () => {
  beforeAll(async () => {
    await startServer();
    serverPort = (server.address() as net.AddressInfo).port;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
    console.log(
      `fuzz: ${stats.requests} request streams, ${stats.responses} responses; keygate stricter on ${stats.keygateStricter}; extension methods (llhttp refuses, RFC 9110 allows) ${stats.extensionMethods}`,
    );
  });

  it(
    'requests: whatever llhttp rejects keygate rejects; accepted messages frame the same',
    async () => {
      await fc.assert(
        fc.asyncProperty(requests, async (bytes) => {
          stats.requests++;
          const k = keygateRequests(bytes);
          const l = await llhttpRequests(bytes);
          if (l.end === 'rejected' && l.reason === 'HPE_INVALID_METHOD') {
            const method = k.messages[l.messages.length]?.method ?? k.method;
            if (method !== undefined && !http.METHODS.includes(method)) {
              stats.extensionMethods++;
              return;
            }
          }
          agree(k, l, bytes);
        }),
        { numRuns: RUNS, interruptAfterTimeLimit: TIME_LIMIT_MS, markInterruptAsFailure: false },
      );
      expect(stats.requests).toBeGreaterThan(50);
    },
    TIME_LIMIT_MS + 30_000,
  );

  it(
    'responses: whatever llhttp rejects keygate rejects; accepted responses frame the same',
    async () => {
      await fc.assert(
        fc.asyncProperty(responses, async (bytes) => {
          stats.responses++;
          agree(keygateResponse(bytes), await llhttpResponse(bytes), bytes);
        }),
        { numRuns: RUNS, interruptAfterTimeLimit: TIME_LIMIT_MS, markInterruptAsFailure: false },
      );
      expect(stats.responses).toBeGreaterThan(50);
    },
    TIME_LIMIT_MS + 30_000,
  );
});
