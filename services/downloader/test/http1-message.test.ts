// The HTTP/1.1 message parts of the lean client, without sockets: request text, response heads, body framing, the
// server's keep-alive hint and the chunked coding fed in every possible split.
import { describe, expect, it } from 'vitest';
import { bodyFraming, ChunkedDecoder, headEnd, keepAliveFor, parseHead, requestText } from '../src/http1-message.ts';

describe('requestText', () => {
  it('writes a GET with the Host first and the given headers, the same object written once', () => {
    const headers = { 'user-agent': 'ua/1', accept: 'image/*' };
    const text = requestText('example.com:8080', { path: '/a%20b.jpg?x=1', headers });
    expect(text).toBe(
      'GET /a%20b.jpg?x=1 HTTP/1.1\r\nhost: example.com:8080\r\nuser-agent: ua/1\r\naccept: image/*\r\n\r\n',
    );
    expect(requestText('h', { path: '/', headers })).toContain('user-agent: ua/1\r\n');
  });

  it('refuses a path or header that would split the request', () => {
    expect(() => requestText('h', { path: '/a b' })).toThrow(/invalid request path/);
    expect(() => requestText('h', { path: 'http://x/' })).toThrow(/invalid request path/);
    expect(() => requestText('h', { path: '/', headers: { 'user-agent': 'x\r\nhost: evil' } })).toThrow(
      /invalid request header user-agent/,
    );
    expect(() => requestText('h', { path: '/', headers: { 'bad name': 'x' } })).toThrow(/invalid request header/);
  });
});

describe('headEnd and parseHead', () => {
  const buf = (s: string) => Buffer.from(s, 'latin1');

  it('finds the blank line after CRLF headers, after bare LF ones, and not before it has come', () => {
    const crlf = buf('HTTP/1.1 200 OK\r\nA: 1\r\n\r\nbody');
    expect(headEnd(crlf, crlf.length)).toEqual({ at: 21, length: 4 });
    const lf = buf('HTTP/1.1 200 OK\nA: 1\n\nbody');
    expect(headEnd(lf, lf.length)).toEqual({ at: 20, length: 2 });
    expect(headEnd(crlf, 23)).toBeUndefined();
  });

  it('reads the status, lower-cases names, trims values and keeps repeated headers as arrays', () => {
    const head = parseHead('HTTP/1.0 404 Not Found\r\nContent-Type:  text/html \r\nSet-Cookie: a=1\r\nset-cookie: b=2');
    expect(head).toMatchObject({ minor: 0, status: 404, message: 'Not Found' });
    expect(head.headers['content-type']).toBe('text/html');
    expect(head.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(parseHead('HTTP/1.1 204').message).toBe('');
  });

  it('refuses what is not an HTTP/1.x head', () => {
    expect(() => parseHead('HTTP/2 200 OK')).toThrow(/not an HTTP\/1.x status line/);
    expect(() => parseHead('HTTP/1.1 200 OK\r\nno colon here')).toThrow(/malformed response header line/);
    expect(() => parseHead('HTTP/1.1 200 OK\r\nA: 1\r\n folded')).toThrow(/malformed response header line/);
    expect(() => parseHead('HTTP/1.1 200 OK\r\nBad Name: 1')).toThrow(/malformed response header line/);
  });
});

describe('bodyFraming', () => {
  it('follows RFC 9112: no body for 204/304, chunked last wins, Content-Length, else until close', () => {
    expect(bodyFraming(204, { 'content-length': '10' })).toEqual({ framing: 'length', length: 0 });
    expect(bodyFraming(304, {})).toEqual({ framing: 'length', length: 0 });
    expect(bodyFraming(200, { 'transfer-encoding': 'gzip, chunked', 'content-length': '5' })).toMatchObject({
      framing: 'chunked',
    });
    expect(bodyFraming(200, { 'transfer-encoding': 'gzip' })).toMatchObject({ framing: 'close' });
    expect(bodyFraming(200, { 'content-length': '123' })).toEqual({ framing: 'length', length: 123 });
    expect(bodyFraming(200, { 'content-length': ['7', '7'] } as never)).toEqual({ framing: 'length', length: 7 });
    expect(bodyFraming(200, {})).toMatchObject({ framing: 'close' });
  });

  it('refuses a Content-Length it cannot trust', () => {
    for (const bad of ['-1', '1.5', '0x10', '', '1, 2', '9999999999999999']) {
      expect(() => bodyFraming(200, { 'content-length': bad }), bad).toThrow(/invalid Content-Length/);
    }
    expect(() => bodyFraming(200, { 'content-length': ['3', '4'] } as never)).toThrow(/invalid Content-Length/);
  });
});

describe('keepAliveFor', () => {
  it('keeps ours unless the server closes sooner, with a second to spare', () => {
    expect(keepAliveFor(undefined, 10_000)).toBe(10_000);
    expect(keepAliveFor('timeout=5', 10_000)).toBe(4000);
    expect(keepAliveFor('max=100, timeout=60', 10_000)).toBe(10_000);
    expect(keepAliveFor('timeout=1', 10_000)).toBe(0);
  });
});

describe('ChunkedDecoder', () => {
  const message = Buffer.from(
    '5;name=value\r\nhello\r\n10\r\n0123456789abcdef\r\n0\r\nX-Trailer: 1\r\n\r\nNEXT',
    'latin1',
  );
  const end = message.length - 'NEXT'.length;

  it('gives the data and where the message ended, however the bytes are split', () => {
    for (let a = 1; a < message.length; a += 3) {
      for (let b = a; b < message.length; b += 7) {
        const decoder = new ChunkedDecoder();
        const got: Buffer[] = [];
        const pieces = [message.subarray(0, a), message.subarray(a, b), message.subarray(b)];
        let ended = -1;
        let offset = 0;
        for (const piece of pieces) {
          const at = decoder.feed(piece, (v) => got.push(Buffer.from(v)) > 0);
          if (at >= 0) {
            ended = offset + at;
            break;
          }
          offset += piece.length;
        }
        expect(Buffer.concat(got).toString(), `${a}/${b}`).toBe('hello0123456789abcdef');
        expect(ended, `${a}/${b}`).toBe(end);
      }
    }
  });

  it('stops when told to, and refuses a malformed coding', () => {
    expect(new ChunkedDecoder().feed(message, () => false)).toBe(-1);
    expect(() => new ChunkedDecoder().feed(Buffer.from('zz\r\n'), () => true)).toThrow(/bad chunk size/);
    expect(() => new ChunkedDecoder().feed(Buffer.from('2\r\nabX'), () => true)).toThrow(/does not end with CRLF/);
    expect(() => new ChunkedDecoder().feed(Buffer.from('1'.repeat(5000)), () => true)).toThrow(/too long/);
  });
});
