// HTTP/1.1 framing as the proxy reads it: request heads (and the smuggling shapes it refuses),
// response heads, and where chunked and fixed-length bodies end, however the bytes are split.
import { describe, expect, it } from 'vitest';
import { HttpParseError, bodyFramer, parseRequestHead, parseResponseHead } from '../../src/proxy/http1.js';

const head = (...lines: string[]) => lines.join('\r\n');
const GET = 'GET /api/v10/users/@me HTTP/1.1';

function refusal(text: string): { status: number; message: string } {
  try {
    parseRequestHead(text);
  } catch (err) {
    expect(err).toBeInstanceOf(HttpParseError);
    return { status: (err as HttpParseError).status, message: (err as Error).message };
  }
  throw new Error('expected the head to be refused');
}

describe('request heads', () => {
  it('keeps names, values and order as received, and reads framing, Host, Expect and keep-alive', () => {
    const parsed = parseRequestHead(
      head('POST /x?y=1 HTTP/1.1', 'Host: discord.com', 'X-Case:   MiXeD  spaced  ', 'Content-Length: 5', 'Expect: 100-continue'),
    );
    expect(parsed).toMatchObject({
      method: 'POST',
      target: '/x?y=1',
      minor: 1,
      host: 'discord.com',
      expectContinue: true,
      keepAlive: true,
    });
    expect(parsed.rawHeaders).toEqual(['Host', 'discord.com', 'X-Case', 'MiXeD  spaced', 'Content-Length', '5', 'Expect', '100-continue']);
    expect(parsed.framing).toEqual({ kind: 'length', length: 5 });
    expect(parseRequestHead(head(GET, 'Transfer-Encoding: Chunked')).framing).toEqual({ kind: 'chunked' });
    expect(parseRequestHead(head(GET, 'Content-Length: 0')).framing).toEqual({ kind: 'none' });
    expect(parseRequestHead(GET).framing).toEqual({ kind: 'none' });
    expect(parseRequestHead(head(GET, 'Connection: Close')).keepAlive).toBe(false);
    expect(parseRequestHead('GET / HTTP/1.0').keepAlive).toBe(false);
    // RFC 9112 §2.2: an empty line before the request line is ignored.
    expect(parseRequestHead(`\r\n${GET}`).target).toBe('/api/v10/users/@me');
  });

  it('refuses both Content-Length and Transfer-Encoding (400)', () => {
    expect(refusal(head(GET, 'Content-Length: 5', 'Transfer-Encoding: chunked'))).toMatchObject({
      status: 400,
      message: 'both Content-Length and Transfer-Encoding',
    });
    expect(refusal(head(GET, 'Transfer-Encoding: chunked', 'content-length: 0')).status).toBe(400);
  });

  it('refuses a duplicate or malformed Content-Length (400)', () => {
    expect(refusal(head(GET, 'Content-Length: 5', 'Content-Length: 5')).message).toBe('more than one Content-Length header');
    expect(refusal(head(GET, 'Content-Length: 5', 'Content-Length: 6')).status).toBe(400);
    for (const value of ['+5', '-1', '0x5', '5 5', '1,1', '', 'five', '1e3', '9999999999999999']) {
      expect(refusal(head(GET, `Content-Length: ${value}`)), value).toMatchObject({ status: 400 });
    }
  });

  it('refuses Transfer-Encoding it cannot frame (400), and in HTTP/1.0', () => {
    for (const value of ['gzip', 'chunked, gzip', 'chunked, chunked', 'identity']) {
      expect(refusal(head(GET, `Transfer-Encoding: ${value}`)), value).toMatchObject({ status: 400 });
    }
    expect(refusal(head(GET, 'Transfer-Encoding: chunked', 'Transfer-Encoding: chunked')).status).toBe(400);
    expect(refusal(head('POST / HTTP/1.0', 'Transfer-Encoding: chunked')).status).toBe(400);
    // chunked last is framing enough; the other codings are the server's business.
    expect(parseRequestHead(head(GET, 'Transfer-Encoding: gzip, chunked')).framing).toEqual({ kind: 'chunked' });
  });

  it('refuses obs-fold, whitespace before the colon, bare CR or LF, and control characters (400)', () => {
    expect(refusal(head(GET, 'X-A: a', ' folded')).message).toBe('folded header line (obs-fold)');
    expect(refusal(head(GET, 'X-A: a', '\tfolded')).status).toBe(400);
    expect(refusal(head(GET, 'Content-Length : 5')).message).toBe('malformed header line');
    expect(refusal(head(GET, 'X-Evil: a\rInjected: b')).message).toBe('bare CR or LF in the message head');
    expect(refusal(head(GET, 'X-Evil: a\nInjected: b')).message).toBe('bare CR or LF in the message head');
    expect(refusal(head(GET, 'X-Evil: a\u0000b')).status).toBe(400);
    expect(refusal(head(GET, 'X-Evil: a\u007fb')).status).toBe(400);
    expect(refusal(head(GET, 'no colon here')).status).toBe(400);
    expect(refusal(head(GET, ': no name')).status).toBe(400);
    expect(parseRequestHead(head(GET, 'X-Tab: a\tb')).rawHeaders).toEqual(['X-Tab', 'a\tb']);
  });

  it('refuses a malformed request line (400), another HTTP version (505), two Host headers and unknown expectations', () => {
    expect(refusal('GET  /x HTTP/1.1').status).toBe(400);
    expect(refusal('GET /x y HTTP/1.1').status).toBe(400);
    expect(refusal('GET /x\u0001 HTTP/1.1').status).toBe(400);
    expect(refusal('GET /x HTTP/2.0').status).toBe(505);
    expect(refusal(head(GET, 'Host: discord.com', 'Host: evil.example')).message).toBe('more than one Host header');
    expect(refusal(head(GET, 'Expect: something-else')).status).toBe(417);
  });
});

describe('response heads', () => {
  it('reads status, framing and keep-alive, and knows which responses have no body', () => {
    const ok = parseResponseHead(head('HTTP/1.1 200 OK', 'Content-Length: 12', 'Keep-Alive: timeout=5'), 'GET');
    expect(ok).toMatchObject({ status: 200, framing: { kind: 'length', length: 12 }, keepAlive: true, keepAliveMs: 5000 });
    expect(parseResponseHead(head('HTTP/1.1 200 OK', 'Transfer-Encoding: chunked'), 'GET').framing).toEqual({ kind: 'chunked' });
    expect(parseResponseHead(head('HTTP/1.1 200 OK', 'Content-Length: 12'), 'HEAD').framing).toEqual({ kind: 'none' });
    expect(parseResponseHead(head('HTTP/1.1 204 No Content', 'Content-Length: 12'), 'GET').framing).toEqual({ kind: 'none' });
    expect(parseResponseHead(head('HTTP/1.1 304 Not Modified', 'Transfer-Encoding: chunked'), 'GET').framing).toEqual({ kind: 'none' });
    // No framing, or a coding other than chunked last: the body runs until the server closes.
    const close = parseResponseHead('HTTP/1.1 200 OK', 'GET');
    expect(close).toMatchObject({ framing: { kind: 'close' }, keepAlive: false });
    expect(parseResponseHead(head('HTTP/1.1 200 OK', 'Transfer-Encoding: gzip'), 'GET').framing).toEqual({ kind: 'close' });
    expect(parseResponseHead(head('HTTP/1.1 200 OK', 'Content-Length: 1', 'Connection: close'), 'GET').keepAlive).toBe(false);
    expect(parseResponseHead(head('HTTP/1.0 200 OK', 'Content-Length: 1'), 'GET').keepAlive).toBe(false);
    expect(parseResponseHead('HTTP/1.1 200 ', 'GET').status).toBe(200);
  });

  it('refuses ambiguous framing and malformed heads (502)', () => {
    for (const text of [
      head('HTTP/1.1 200 OK', 'Content-Length: 1', 'Transfer-Encoding: chunked'),
      head('HTTP/1.1 200 OK', 'Content-Length: 1', 'Content-Length: 2'),
      head('HTTP/1.1 200 OK', 'Content-Length: x'),
      head('HTTP/1.1 200 OK', 'X: a', ' folded'),
      head('HTTP/1.1 200 OK', 'X: a\nY: b'),
      'HTTP/1.1 20 OK',
      'SPDY/3 200 OK',
    ]) {
      expect(() => parseResponseHead(text, 'GET'), text).toThrow(HttpParseError);
    }
  });
});

describe('body framing', () => {
  /** Feeds `bytes` in pieces of `size` and returns where the body ended in the whole stream, or -1. */
  function feed(framer: ReturnType<typeof bodyFramer>, bytes: Buffer, size: number): number {
    for (let at = 0; at < bytes.length; at += size) {
      const piece = bytes.subarray(at, at + size);
      const end = framer.feed(piece, 0);
      if (end !== -1) return at + end;
    }
    return -1;
  }

  const chunked = Buffer.from('5;name=value\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: yes\r\n\r\nGET /next HTTP/1.1\r\n');
  const bodyLength = chunked.indexOf('GET /next');

  it('finds the end of a chunked body, extensions and trailers included, whatever the split', () => {
    for (const size of [1, 2, 3, 7, 1000]) {
      const framer = bodyFramer({ kind: 'chunked' });
      expect(feed(framer, chunked, size), `pieces of ${size}`).toBe(bodyLength);
      expect(framer.done).toBe(true);
    }
  });

  it('finds the end of a fixed-length body and leaves the rest', () => {
    const framer = bodyFramer({ kind: 'length', length: 5 });
    expect(framer.feed(Buffer.from('abc'), 0)).toBe(-1);
    expect(framer.feed(Buffer.from('deGET'), 0)).toBe(2);
    expect(framer.done).toBe(true);
  });

  it('refuses malformed chunked framing', () => {
    for (const bad of [
      'x\r\n',
      '\r\n',
      '5\nhello\r\n',
      '5\r\nhelloXY',
      '5\r\nhello\r\r',
      '5 \r\nhello\r\n0\r\n\r\n',
      '0\r\n folded: x\r\n\r\n',
      '0\r\nA: b\nc\r\n\r\n',
      'fffffffffffffff\r\n',
      '5;a\u0001\r\n',
    ]) {
      expect(() => bodyFramer({ kind: 'chunked' }).feed(Buffer.from(bad), 0), JSON.stringify(bad)).toThrow(HttpParseError);
    }
  });
});
