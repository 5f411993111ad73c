// A lean HTTP/1.1 client for the download loop, with the dispatch interface of undici (the same handler serves both).
// undici costs ~0.1 ms of CPU a picture on loopback (its parser copies every byte into WebAssembly memory, each
// socket read is a fresh 64 KB buffer, and the request passes through several layers); this client lets the socket
// read a body with a Content-Length straight into one buffer of that size, which then goes to the file writer thread
// as it is. What it does, and no more: GET over keep-alive connections (plain or TLS, ALPN http/1.1), responses framed
// by Content-Length, chunked coding or the end of the connection, 1xx responses skipped, idle timeouts, a stale
// kept-alive connection retried once on a fresh one, pause/resume for a slow consumer, abort at any point. Anything
// fancier (proxies) goes through undici itself (main.ts).
import net from 'node:net';
import tls from 'node:tls';
import type { Dispatcher } from 'undici';
import {
  bodyFraming,
  ChunkedDecoder,
  type Framing,
  HttpError,
  headEnd,
  header,
  keepAliveFor,
  MAX_HEADER_BYTES,
  type ParsedHead,
  parseHead,
  requestText,
} from './http1-message.ts';

export interface Http1PoolOptions {
  /** Connecting may take this long. */
  connectTimeoutMs: number;
  /** An idle kept-alive connection is closed after this (or sooner when the server's Keep-Alive header says so). */
  keepAliveMs: number;
  /** Bodies with a Content-Length up to this are read into one buffer of their size; larger ones in 64 KB pieces. */
  exactBodyMax?: number;
  /** Extra TLS options (a private CA in tests). */
  tls?: tls.ConnectionOptions;
}

/** undici's handler, plus a way to lend the memory a body of known size is read into (undici never asks). */
export interface BodyHandler extends Dispatcher.DispatchHandler {
  /** Asked once a body's length is known and at most exactBodyMax; undefined lets the client allocate it. */
  bodyBuffer?(length: number): Buffer | undefined;
}

/**
 * The first read of a response goes to the connection's own buffer (the headers' length is unknown), and the body
 * bytes in it are then copied into the body's buffer: into shared memory, which V8 copies with relaxed atomics (slow).
 * Headers are a few hundred bytes; a small first read keeps that copy small (measured: 16 KB -> 2 KB, ~4% faster).
 */
const FIRST_READ_BYTES = 2048;
const SLAB_BYTES = 64 * 1024;
/** A slab with less room than this left is not read into again. */
const SLAB_MIN_READ = 8 * 1024;

interface Origin {
  key: string;
  secure: boolean;
  /** For connect: an IPv6 literal without its brackets. */
  hostname: string;
  port: number;
  /** The Host header: host and port as in the URL. */
  hostHeader: string;
  idle: Connection[];
  /** Connections open to it; at 0 the origin is forgotten (a list of a million hosts must not leave a million). */
  open: number;
}

/** TLS sessions kept for resumption, one an origin, the most recently given ones. */
const MAX_SESSIONS = 1024;

/** The controller of one exchange (undici's DispatchController). */
class Exchange implements Dispatcher.DispatchController {
  aborted = false;
  paused = false;
  reason: Error | null = null;
  conn: Connection | undefined;
  /** Retried once on a fresh connection after a kept-alive one closed before answering. */
  retried = false;
  /** The response has ended or failed: no more handler calls. */
  over = false;

  constructor(
    public origin: Origin,
    readonly request: string,
    readonly handler: BodyHandler,
    readonly headersTimeoutMs: number,
    readonly bodyTimeoutMs: number,
  ) {}

  abort(reason: Error): void {
    if (this.aborted || this.over) return;
    this.aborted = true;
    this.reason = reason;
    this.conn?.destroyFor(this);
    this.fail(reason);
  }

  pause(): void {
    this.paused = true;
    this.conn?.socket.pause();
  }

  resume(): void {
    this.paused = false;
    this.conn?.socket.resume();
  }

  fail(error: Error): void {
    if (this.over) return;
    this.over = true;
    this.conn = undefined;
    this.handler.onResponseError?.(this, error);
  }
}

enum State {
  Idle,
  Head,
  /** Body framed by Content-Length. */
  Length,
  Chunked,
  /** Body ends when the server closes the connection. */
  UntilClose,
  Dead,
}

const FRAMED_BY: Record<Framing, State> = { length: State.Length, chunked: State.Chunked, close: State.UntilClose };

class Connection {
  readonly socket: net.Socket;
  private state = State.Idle;
  private exchange: Exchange | undefined;
  /** Responses this connection has finished: a closed connection that had answered before is worth one retry. */
  private served = 0;
  private head = Buffer.allocUnsafe(FIRST_READ_BYTES);
  private headLength = 0;
  /** Where the body lands when its size is known and small: one buffer, read into directly. */
  private body: Buffer | undefined;
  private bodyAt = 0;
  /** Otherwise reads go to slabs, each used for several reads and never reused after (the handler keeps views). */
  private slab: Buffer | undefined;
  private slabAt = 0;
  /** Bytes of a Content-Length body still to come. */
  private remaining = 0;
  private keepAlive = false;
  private idleMs: number;
  /** When the connection went back to the pool (Date.now()); the pool's sweep closes it idleMs later. */
  idleSince = 0;
  /** The socket's inactivity limit now: set again only when an exchange needs another (a timer object each time). */
  private timeoutMs = -1;
  private chunks: ChunkedDecoder | undefined;

  constructor(
    readonly origin: Origin,
    private readonly pool: Http1Pool,
    opts: Http1PoolOptions,
  ) {
    this.idleMs = opts.keepAliveMs;
    const onread = { buffer: () => this.readBuffer(), callback: (n: number) => this.received(n) };
    const common = { host: origin.hostname, port: origin.port, onread, noDelay: true };
    this.socket = origin.secure
      ? tls.connect({
          ...common,
          servername: net.isIP(origin.hostname) === 0 ? origin.hostname : undefined,
          ALPNProtocols: ['http/1.1'],
          session: pool.sessionFor(origin.key),
          ...opts.tls,
        })
      : net.connect(common);
    if (origin.secure) this.socket.on('session', (session: Buffer) => pool.rememberSession(origin.key, session));
    this.socket.setKeepAlive(true, 60_000);
    this.socket.on('error', (err) => this.lost(err));
    this.socket.on('end', () => this.ended());
    this.socket.on('close', () => this.lost(new HttpError('ECONNRESET', 'the connection closed')));
    this.socket.on('timeout', () => this.timedOut());
    this.socket.once('connect', () => {
      if (this.exchange && this.state === State.Head) this.limit(this.exchange.headersTimeoutMs);
    });
  }

  /** Sends the exchange's request; the connection is idle or new. */
  send(exchange: Exchange): void {
    this.exchange = exchange;
    exchange.conn = this;
    this.state = State.Head;
    this.headLength = 0;
    this.socket.ref();
    this.limit(
      this.socket.connecting
        ? Math.min(this.pool.connectTimeoutMs, exchange.headersTimeoutMs)
        : exchange.headersTimeoutMs,
    );
    this.socket.write(exchange.request, 'latin1');
    if (exchange.paused) this.socket.pause();
  }

  /** The exchange was aborted: the connection cannot be reused (the rest of the response is still coming). */
  destroyFor(exchange: Exchange): void {
    if (this.exchange !== exchange) return;
    this.exchange = undefined;
    this.kill();
  }

  private limit(ms: number): void {
    if (ms === this.timeoutMs) return;
    this.timeoutMs = ms;
    this.socket.setTimeout(ms);
  }

  /** Idle for longer than it may be kept. */
  expired(now: number): boolean {
    return this.state === State.Idle && now - this.idleSince >= this.idleMs;
  }

  /** Closes the connection; an exchange still on it fails with `err`. */
  close(err: Error): void {
    const exchange = this.exchange;
    this.exchange = undefined;
    this.kill();
    exchange?.fail(err);
  }

  kill(): void {
    this.state = State.Dead;
    this.body = undefined;
    this.slab = undefined;
    this.pool.forget(this);
    this.socket.destroy();
  }

  private readBuffer(): Buffer {
    switch (this.state) {
      case State.Length:
        if (this.body) return this.body.subarray(this.bodyAt);
        return this.slabRoom(this.remaining);
      case State.Chunked:
      case State.UntilClose:
        return this.slabRoom(SLAB_BYTES);
      default:
        if (this.headLength === this.head.length) {
          const bigger = Buffer.allocUnsafe(Math.min(this.head.length * 2, MAX_HEADER_BYTES + FIRST_READ_BYTES));
          this.head.copy(bigger, 0, 0, this.headLength);
          this.head = bigger;
        }
        return this.head.subarray(this.headLength);
    }
  }

  private slabRoom(want: number): Buffer {
    if (!this.slab || this.slab.length - this.slabAt < SLAB_MIN_READ) {
      this.slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
      this.slabAt = 0;
    }
    return this.slab.subarray(this.slabAt, this.slabAt + Math.min(want, this.slab.length - this.slabAt));
  }

  /** `n` bytes were read into the buffer readBuffer() gave. Returns false to stop reading (a paused exchange). */
  private received(n: number): boolean {
    switch (this.state) {
      case State.Head:
        this.headLength += n;
        this.parseHead();
        break;
      case State.Length:
        if (this.body) {
          const view = this.body.subarray(this.bodyAt, this.bodyAt + n);
          this.bodyAt += n;
          this.remaining -= n;
          if (this.deliver(view) && this.remaining === 0) this.finish();
        } else {
          const view = this.takeSlab(n);
          this.remaining -= n;
          if (this.deliver(view) && this.remaining === 0) this.finish();
        }
        break;
      case State.Chunked:
        this.chunked(this.takeSlab(n));
        break;
      case State.UntilClose:
        this.deliver(this.takeSlab(n));
        break;
      case State.Idle:
        // bytes nobody asked for: this connection cannot be trusted with another request
        this.kill();
        return false;
      default:
        return false;
    }
    return !(this.exchange?.paused ?? false);
  }

  private takeSlab(n: number): Buffer {
    const slab = this.slab as Buffer;
    const view = slab.subarray(this.slabAt, this.slabAt + n);
    this.slabAt += n;
    return view;
  }

  /** Hands a piece of body to the handler; false when the exchange ended meanwhile (aborted by the handler). */
  private deliver(chunk: Buffer): boolean {
    const exchange = this.exchange;
    if (!exchange || exchange.over) return false;
    if (chunk.length > 0) exchange.handler.onResponseData?.(exchange, chunk);
    return this.exchange === exchange && !exchange.over;
  }

  private parseHead(): void {
    for (;;) {
      const head = this.head;
      const end = headEnd(head, this.headLength);
      if (!end ? this.headLength > MAX_HEADER_BYTES : end.at > MAX_HEADER_BYTES) {
        this.close(new HttpError('ERR_BAD_RESPONSE', `response headers larger than ${MAX_HEADER_BYTES} bytes`));
        return;
      }
      if (!end) return;
      const exchange = this.exchange as Exchange;
      let parsed: ParsedHead;
      try {
        parsed = parseHead(head.toString('latin1', 0, end.at));
      } catch (err) {
        this.close(err as Error);
        return;
      }
      const leftover = head.subarray(end.at + end.length, this.headLength);
      const { status, headers } = parsed;
      if (status >= 100 && status < 200) {
        if (status === 101) {
          this.close(new HttpError('ERR_BAD_RESPONSE', 'the server switched protocols (101) on a GET'));
          return;
        }
        // informational (100 Continue, 103 Early Hints): the real response follows
        this.headLength = leftover.copy(head, 0);
        continue;
      }
      let framing: State;
      let length = 0;
      try {
        const body = bodyFraming(status, headers);
        framing = FRAMED_BY[body.framing];
        length = body.length;
      } catch (err) {
        this.close(err as Error);
        return;
      }
      const connection = header(headers, 'connection')?.toLowerCase() ?? '';
      this.keepAlive = parsed.minor === 1 && !connection.includes('close') && framing !== State.UntilClose;
      this.idleMs = keepAliveFor(header(headers, 'keep-alive'), this.pool.keepAliveMs);
      this.headLength = 0;
      this.limit(exchange.bodyTimeoutMs);
      exchange.handler.onResponseStart?.(exchange, status, headers, parsed.message);
      if (exchange.over || this.exchange !== exchange) return;
      this.startBody(framing, length, leftover);
      return;
    }
  }

  private startBody(framing: State, length: number, leftover: Buffer): void {
    this.state = framing;
    if (framing === State.Length) {
      if (length === 0) {
        if (leftover.length > 0) this.keepAlive = false;
        this.finish();
        return;
      }
      this.remaining = length;
      const take = Math.min(leftover.length, length);
      if (leftover.length > length) this.keepAlive = false;
      let view: Buffer;
      if (length <= this.pool.exactBodyMax) {
        const lent = (this.exchange as Exchange).handler.bodyBuffer?.(length);
        this.body = lent?.length === length ? lent : Buffer.allocUnsafeSlow(length);
        leftover.copy(this.body, 0, 0, take);
        this.bodyAt = take;
        view = this.body.subarray(0, take);
      } else {
        view = this.copyToSlab(leftover.subarray(0, take));
      }
      this.remaining -= take;
      if (this.deliver(view) && this.remaining === 0) this.finish();
      return;
    }
    if (framing === State.Chunked) this.chunks = new ChunkedDecoder();
    if (leftover.length === 0) return;
    const view = this.copyToSlab(leftover);
    if (framing === State.Chunked) this.chunked(view);
    else this.deliver(view);
  }

  private copyToSlab(bytes: Buffer): Buffer {
    if (!this.slab || this.slab.length - this.slabAt < bytes.length) {
      this.slab = Buffer.allocUnsafeSlow(Math.max(SLAB_BYTES, bytes.length));
      this.slabAt = 0;
    }
    bytes.copy(this.slab, this.slabAt);
    return this.takeSlab(bytes.length);
  }

  private chunked(data: Buffer): void {
    let end: number;
    try {
      end = (this.chunks as ChunkedDecoder).feed(data, (view) => this.deliver(view));
    } catch (err) {
      this.close(err as Error);
      return;
    }
    if (end < 0) return;
    // bytes after the message: this connection cannot be trusted with another request
    if (end < data.length) this.keepAlive = false;
    this.finish();
  }

  /** The response is complete: the connection goes back to the pool (or is closed), then the handler hears of it. */
  private finish(): void {
    const exchange = this.exchange as Exchange;
    this.exchange = undefined;
    this.body = undefined;
    this.chunks = undefined;
    this.served++;
    exchange.conn = undefined;
    exchange.over = true;
    if (this.keepAlive && this.idleMs > 0 && !this.pool.destroyed) {
      this.state = State.Idle;
      if (exchange.paused) this.socket.resume();
      this.socket.unref();
      this.idleSince = Date.now();
      this.origin.idle.push(this);
      this.pool.sweepLater();
    } else {
      this.kill();
    }
    exchange.handler.onResponseEnd?.(exchange, {});
  }

  private ended(): void {
    if (this.state === State.UntilClose && this.exchange) {
      this.keepAlive = false;
      this.finish();
      return;
    }
    this.lost(new HttpError('ECONNRESET', this.closedMessage()));
  }

  private closedMessage(): string {
    if (this.state === State.Length) {
      return `the server closed the connection ${this.remaining} bytes before the end of the body`;
    }
    if (this.state === State.Chunked) return 'the server closed the connection in the middle of a chunked body';
    return 'the server closed the connection before the response';
  }

  private timedOut(): void {
    const exchange = this.exchange;
    if (!exchange) {
      this.kill();
      return;
    }
    const seconds = (ms: number) => `${+(ms / 1000).toFixed(3)} s`;
    let message: string;
    if (this.socket.connecting)
      message = `could not connect to ${this.origin.key} within ${seconds(this.pool.connectTimeoutMs)}`;
    else if (this.state === State.Head) message = `no response headers within ${seconds(exchange.headersTimeoutMs)}`;
    else message = `no body bytes for ${seconds(exchange.bodyTimeoutMs)}`;
    this.close(new HttpError('ETIMEDOUT', message));
  }

  /** The connection failed or closed: the exchange on it (if any) fails, or is retried when that is safe. */
  private lost(err: Error): void {
    const exchange = this.exchange;
    const staleReuse = this.state === State.Head && this.headLength === 0 && this.served > 0;
    this.exchange = undefined;
    if (this.state !== State.Dead) this.kill();
    if (!exchange || exchange.over) return;
    // A kept-alive connection the server closed while our request was on its way: nothing was answered, and a GET
    // may be sent again (RFC 9110 §9.2.2). Once only.
    if (staleReuse && !exchange.retried) {
      exchange.retried = true;
      exchange.conn = undefined;
      this.pool.start(exchange, true);
      return;
    }
    exchange.fail(err);
  }
}

/** GET requests over pooled HTTP/1.1 connections, one request at a time on each. */
export class Http1Pool {
  readonly keepAliveMs: number;
  readonly connectTimeoutMs: number;
  readonly exactBodyMax: number;
  destroyed = false;
  private readonly origins = new Map<string, Origin>();
  private readonly live = new Set<Connection>();
  private sweeper: NodeJS.Timeout | undefined;
  private readonly sessions = new Map<string, Buffer>();

  constructor(private readonly opts: Http1PoolOptions) {
    this.keepAliveMs = opts.keepAliveMs;
    this.connectTimeoutMs = opts.connectTimeoutMs;
    this.exactBodyMax = opts.exactBodyMax ?? 1024 * 1024;
  }

  dispatch(options: Dispatcher.DispatchOptions, handler: BodyHandler): boolean {
    let exchange: Exchange;
    try {
      if (this.destroyed) throw new HttpError('ERR_DESTROYED', 'the HTTP client is closed');
      if ((options.method ?? 'GET') !== 'GET') throw new TypeError('this client only sends GET requests');
      const origin = this.originOf(String(options.origin));
      exchange = new Exchange(
        origin,
        requestText(origin.hostHeader, options),
        handler,
        options.headersTimeout ?? 300_000,
        options.bodyTimeout ?? 300_000,
      );
    } catch (err) {
      handler.onResponseError?.(placeholder, err as Error);
      return false;
    }
    handler.onRequestStart?.(exchange, {});
    if (exchange.over) return true;
    this.start(exchange, false);
    return true;
  }

  /** Sends the exchange on an idle connection of its origin, or on a new one. */
  start(exchange: Exchange, fresh: boolean): void {
    if (this.destroyed) {
      exchange.fail(new HttpError('ERR_DESTROYED', 'the HTTP client is closed'));
      return;
    }
    // the origin as the pool knows it now: it was forgotten if its last connection closed since the dispatch
    let origin = this.origins.get(exchange.origin.key);
    if (!origin) {
      origin = exchange.origin;
      this.origins.set(origin.key, origin);
    }
    exchange.origin = origin;
    let conn = fresh ? undefined : origin.idle.pop();
    if (!conn) {
      conn = new Connection(origin, this, this.opts);
      this.live.add(conn);
      origin.open++;
    }
    conn.send(exchange);
  }

  /**
   * Closes idle connections kept longer than they may be, every half keep-alive (at most a second): one timer for the
   * pool instead of re-arming each socket's own timer twice a request.
   */
  sweepLater(): void {
    if (this.sweeper) return;
    const every = Math.max(10, Math.min(1000, this.keepAliveMs / 2));
    this.sweeper = setInterval(() => {
      const now = Date.now();
      let idle = 0;
      for (const origin of this.origins.values()) {
        for (const conn of [...origin.idle]) {
          if (conn.expired(now)) conn.kill();
          else idle++;
        }
      }
      if (idle === 0) {
        clearInterval(this.sweeper);
        this.sweeper = undefined;
      }
    }, every);
    this.sweeper.unref();
  }

  /** The last TLS session an origin's server gave: a new connection resumes it instead of a full handshake. */
  sessionFor(key: string): Buffer | undefined {
    return this.sessions.get(key);
  }

  rememberSession(key: string, session: Buffer): void {
    this.sessions.delete(key);
    this.sessions.set(key, session);
    if (this.sessions.size > MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value as string);
  }

  forget(conn: Connection): void {
    if (!this.live.delete(conn)) return;
    const { origin } = conn;
    const at = origin.idle.indexOf(conn);
    if (at >= 0) origin.idle.splice(at, 1);
    if (--origin.open === 0) this.origins.delete(origin.key);
  }

  /** Closes every connection; exchanges still running fail. */
  async destroy(): Promise<void> {
    this.destroyed = true;
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    const closed = new HttpError('ERR_DESTROYED', 'the HTTP client is closed');
    for (const conn of [...this.live]) conn.close(closed);
  }

  /** Connections open now (idle or busy), for tests. */
  get connections(): number {
    return this.live.size;
  }

  /** Origins remembered now (those with an open connection), for tests. */
  get knownOrigins(): number {
    return this.origins.size;
  }

  /** The origin of `key`; a new one is remembered by start() once it has a connection. */
  private originOf(key: string): Origin {
    const known = this.origins.get(key);
    if (known) return known;
    const url = new URL(key);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new TypeError(`only http: and https: URLs, not ${url.protocol}`);
    }
    const secure = url.protocol === 'https:';
    const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    return {
      key,
      secure,
      hostname,
      port: url.port ? Number(url.port) : secure ? 443 : 80,
      hostHeader: url.host,
      idle: [],
      open: 0,
    };
  }
}

/** A controller for a dispatch refused before it started. */
const placeholder: Dispatcher.DispatchController = {
  aborted: true,
  paused: false,
  reason: null,
  abort() {},
  pause() {},
  resume() {},
};
