// One HTTP exchange through the dispatch API (of the lean client in http1.ts, or of undici behind a proxy): the
// handler gets the status, headers and body chunks as plain callbacks, which costs far less per picture than a
// Readable body with a promise per chunk. The body goes through any content or transfer coding, is checked against
// MAX_IMAGE_BYTES as it arrives and sniffed from its first bytes; it lands in a slot of the shared arena the lean
// client reads it into, or in buffers that own their memory (for the file writer thread), or, when large, in a
// temporary file next to its final place as it comes.
import { closeSync, openSync, rmSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import type { Transform } from 'node:stream';
import zlib from 'node:zlib';
import type { Dispatcher } from 'undici';
import type { ArenaBody, BodyArena } from './body-arena.ts';
import type { BodyHandler } from './http1.ts';
import { header } from './http1-message.ts';
import { SNIFF_BYTES, type Sniffed, sniffImage } from './sniff.ts';
import { tempPathFor, writeChunksSync } from './store.ts';

export type ImageSniff = Extract<Sniffed, { kind: 'image' }>;

/** What sends the request: the lean client of http1.ts, or an undici Agent (through a proxy). */
export type ImageDispatcher = Pick<Dispatcher, 'dispatch'>;

export interface ReceiveOptions {
  dispatcher: ImageDispatcher;
  userAgent: string;
  timeoutMs: number;
  maxBytes: number;
  /** Folder for the temporary file (OUTPUT_DIR, so the final rename is atomic). */
  tempDir: string;
  /** The file stem, used to name the temporary file. */
  stem: string;
  /** Aborting it cuts the exchange; the temporary file is removed and the outcome is an AbortedError. */
  signal?: AbortSignal;
  /** Where a body of known size is read into when the client lets us choose (the lean one does). */
  arena?: BodyArena;
}

export type Exchange =
  | { kind: 'redirect'; status: number; location: string | undefined }
  /** Any other status outside 2xx; its (small) body is read and dropped so the connection can be reused. */
  | { kind: 'status'; status: number; retryAfter: string | undefined }
  /**
   * The body in `body` (buffers that each own their whole ArrayBuffer, or one view of the arena slot `lent`, which
   * whoever takes the outcome must give back), or already in the temporary file `tmp`.
   */
  | { kind: 'image'; body?: Buffer[]; lent?: number; tmp?: string; bytes: number; image: ImageSniff }
  /** `bytes` of `declared` (Content-Length, when the body had no coding) had come when it failed. */
  | { kind: 'error'; error: unknown; bytes: number; declared: number | undefined };

/** A failure decided while reading the body, with its classification. */
export class Rejection extends Error {
  constructor(
    readonly reason: string,
    detail: string,
    readonly retryable = false,
  ) {
    super(detail);
  }
}

export class AbortedError extends Error {
  constructor() {
    super('download stopped');
    this.name = 'AbortedError';
  }
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const ACCEPT = 'image/avif,image/webp,image/*;q=0.9,*/*;q=0.5';

/** An error page or redirect body longer than this is cut (closing the connection) instead of read to its end. */
const DRAIN_LIMIT = 64 * 1024;

/**
 * Bodies up to this size stay in memory and go to the file writer thread whole: on a fast link the thread-pool round
 * trips of a streamed write (open, a write per chunk, close) cost more than the bytes (measured ~2x slower on
 * loopback). Larger bodies spill to the temporary file as they come, so memory stays bounded by MAX_CONCURRENCY × this.
 */
export const IN_MEMORY_BYTES = 1024 * 1024;

function codingsOf(headers: IncomingHttpHeaders): string[] {
  const content = headers['content-encoding'];
  const transfer = headers['transfer-encoding'];
  // the common case, checked without building arrays for every picture
  if (content === undefined && (transfer === undefined || transfer === 'chunked')) return [];
  return [header(headers, 'content-encoding'), header(headers, 'transfer-encoding')]
    .flatMap((v) => (v ?? '').split(','))
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '' && s !== 'identity' && s !== 'chunked');
}

/** Decoders for the codings (chunked is undone by the HTTP parser), in the order they must be applied. */
function decodersFor(codings: string[]): Transform[] {
  return codings.reverse().map((coding) => {
    if (coding === 'gzip' || coding === 'x-gzip') return zlib.createGunzip();
    if (coding === 'deflate') return zlib.createInflate();
    if (coding === 'br') return zlib.createBrotliDecompress();
    throw new Rejection('bad_encoding', `unsupported content coding "${coding}"`);
  });
}

class ImageReceiver implements BodyHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private settled = false;
  /** undici is done with the exchange (its end or its error came). */
  private ended = false;
  /** Set for redirects and error statuses: the outcome is known, the body is only drained. */
  private early: Exchange | undefined;
  private drained = 0;
  private declared: number | undefined;
  private decoders: Transform[] = [];
  private bytes = 0;
  private held: Buffer[] = [];
  private image: ImageSniff | undefined;
  private tmp: string | undefined;
  private fd: number | undefined;
  /** The arena slot the body is being read into, ours until the outcome hands it on. */
  private lent: ArenaBody | undefined;

  constructor(
    private readonly opts: ReceiveOptions,
    private readonly done: (e: Exchange) => void,
  ) {}

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.settled) controller.abort(new AbortedError());
  }

  onResponseStart(_c: Dispatcher.DispatchController, status: number, headers: IncomingHttpHeaders): void {
    if (REDIRECTS.has(status)) {
      this.early = { kind: 'redirect', status, location: header(headers, 'location') };
      return;
    }
    if (status < 200 || status > 299) {
      this.early = { kind: 'status', status, retryAfter: header(headers, 'retry-after') };
      return;
    }
    try {
      const codings = codingsOf(headers);
      if (codings.length === 0) {
        const length = header(headers, 'content-length');
        this.declared = length === undefined ? undefined : Number(length);
      }
      if (this.declared !== undefined && this.declared > this.opts.maxBytes) {
        const detail = `Content-Length ${this.declared} is over MAX_IMAGE_BYTES (${this.opts.maxBytes} bytes)`;
        throw new Rejection('too_large', detail);
      }
      this.decoders = decodersFor(codings);
    } catch (err) {
      this.fail(err);
      return;
    }
    if (this.decoders.length > 0) this.wireDecoders();
  }

  bodyBuffer(length: number): Buffer | undefined {
    // only for a body stored as it comes (not an error page, not one to decode)
    if (this.early || this.decoders.length > 0 || length > IN_MEMORY_BYTES || this.settled) return undefined;
    this.lent = this.opts.arena?.take(length);
    return this.lent?.view;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.settled) return;
    if (this.early) {
      this.drained += chunk.length;
      if (this.drained > DRAIN_LIMIT) this.settle(this.early);
      return;
    }
    if (this.decoders.length === 0) {
      this.accept(chunk);
      return;
    }
    // let the socket wait while zlib catches up
    if (!this.decoders[0].write(chunk)) {
      controller.pause();
      this.decoders[0].once('drain', () => controller.resume());
    }
  }

  onResponseEnd(): void {
    this.ended = true;
    if (this.settled) return;
    if (this.early) this.settle(this.early);
    else if (this.decoders.length > 0) this.decoders[0].end();
    else this.finish();
  }

  onResponseError(_c: Dispatcher.DispatchController, error: Error): void {
    this.ended = true;
    if (this.early) this.settle(this.early);
    else this.fail(error);
  }

  /** Ends the exchange from outside (shutdown). */
  cut(): void {
    this.fail(new AbortedError());
  }

  private wireDecoders(): void {
    const { decoders } = this;
    for (let i = 1; i < decoders.length; i++) decoders[i - 1].pipe(decoders[i]);
    for (const d of decoders) d.on('error', (err) => this.fail(err));
    const last = decoders[decoders.length - 1];
    last.on('data', (chunk: Buffer) => this.accept(chunk));
    last.on('end', () => this.finish());
  }

  private accept(chunk: Buffer): void {
    if (this.settled) return;
    try {
      this.bytes += chunk.length;
      if (this.bytes > this.opts.maxBytes) {
        throw new Rejection('too_large', `larger than MAX_IMAGE_BYTES (${this.opts.maxBytes} bytes)`);
      }
      if (this.fd !== undefined) {
        writeChunksSync(this.fd, [chunk]);
        return;
      }
      this.held.push(chunk);
      if (!this.image && this.bytes >= SNIFF_BYTES) this.sniff();
      if (this.bytes > IN_MEMORY_BYTES) {
        this.fd = this.openTemp();
        writeChunksSync(this.fd, this.held);
        this.held = [];
      }
    } catch (err) {
      this.fail(err);
    }
  }

  private finish(): void {
    if (this.settled) return;
    try {
      if (!this.image) this.sniff();
      if (this.declared !== undefined && this.declared !== this.bytes) {
        throw new Rejection('truncated', `got ${this.bytes} of ${this.declared} bytes`, true);
      }
      const image = this.image as ImageSniff;
      const lent = this.lent;
      if (lent && lent.view.length === this.bytes && this.held.every((c) => c.buffer === lent.view.buffer)) {
        this.lent = undefined;
        this.settle({ kind: 'image', body: [lent.view], lent: lent.slot, bytes: this.bytes, image });
        return;
      }
      if (this.fd === undefined) {
        this.settle({ kind: 'image', body: this.ownedBody(), bytes: this.bytes, image });
        return;
      }
      closeSync(this.fd);
      this.fd = undefined;
      this.settle({ kind: 'image', tmp: this.tmp as string, bytes: this.bytes, image });
    } catch (err) {
      this.fail(err);
    }
  }

  /**
   * The body as buffers that own their memory, so they can be transferred to the writer thread without a copy. The lean
   * client reads a body of known size into one buffer of that size, handed on in consecutive views: that buffer goes
   * as it is. From undici, a socket read that held only body bytes is its own ArrayBuffer, about half the bytes of a
   * picture: those are kept as they are (undici is done with them once the body has ended); runs of other chunks are
   * copied into one buffer.
   */
  private ownedBody(): Buffer[] {
    const whole = wholeBuffer(this.held, this.bytes);
    if (whole) return [whole];
    const parts: Buffer[] = [];
    let loose: Buffer[] = [];
    let looseBytes = 0;
    const gather = () => {
      if (looseBytes === 0) return;
      const owned = Buffer.allocUnsafeSlow(looseBytes);
      let at = 0;
      for (const chunk of loose) at += chunk.copy(owned, at);
      parts.push(owned);
      loose = [];
      looseBytes = 0;
    };
    for (const chunk of this.held) {
      if (chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength) {
        gather();
        parts.push(chunk);
      } else {
        loose.push(chunk);
        looseBytes += chunk.length;
      }
    }
    gather();
    return parts;
  }

  private sniff(): void {
    const head = this.held.length === 1 ? this.held[0] : Buffer.concat(this.held, this.bytes);
    const sniffed = sniffImage(head);
    if (sniffed.kind === 'rejected') throw new Rejection(sniffed.reason, sniffed.detail);
    this.image = sniffed;
  }

  private openTemp(): number {
    this.tmp = tempPathFor(this.opts.tempDir, this.opts.stem);
    return openSync(this.tmp, 'wx');
  }

  private fail(error: unknown): void {
    if (this.settled) return;
    // Rare paths, and the file must be gone before the caller decides what comes next: synchronous on purpose.
    try {
      if (this.fd !== undefined) closeSync(this.fd);
      if (this.tmp) rmSync(this.tmp, { force: true });
    } catch (cleanupError) {
      error = cleanupError;
    }
    this.fd = undefined;
    this.tmp = undefined;
    for (const d of this.decoders) d.destroy();
    this.settle({ kind: 'error', error, bytes: this.bytes, declared: this.declared });
  }

  private settle(outcome: Exchange): void {
    if (this.settled) return;
    this.settled = true;
    this.held = [];
    // Still receiving (a body too large or not an image, an error page too long to drain, a shutdown): cut it.
    if (this.controller && !this.ended && !this.controller.aborted) {
      this.controller.abort(
        outcome.kind === 'error' && outcome.error instanceof Error ? outcome.error : new AbortedError(),
      );
    }
    // after the abort: the client reads no more into it
    if (this.lent) this.opts.arena?.release(this.lent.slot);
    this.lent = undefined;
    this.done(outcome);
  }
}

/** The chunks as one buffer when they are consecutive views that cover one ArrayBuffer exactly; else undefined. */
function wholeBuffer(chunks: Buffer[], bytes: number): Buffer | undefined {
  if (chunks.length === 0) return undefined;
  const memory = chunks[0].buffer;
  if (memory.byteLength !== bytes) return undefined;
  let at = 0;
  for (const chunk of chunks) {
    if (chunk.buffer !== memory || chunk.byteOffset !== at) return undefined;
    at += chunk.length;
  }
  return Buffer.from(memory, 0, bytes);
}

/**
 * The receivers listening to each abort signal: one listener a signal (a round's), which cuts them all, instead of one
 * added and removed a request.
 */
const listening = new WeakMap<AbortSignal, Set<ImageReceiver>>();

function receiversOf(signal: AbortSignal): Set<ImageReceiver> {
  let receivers = listening.get(signal);
  if (!receivers) {
    const set = new Set<ImageReceiver>();
    signal.addEventListener('abort', () => {
      for (const r of [...set]) r.cut();
    });
    listening.set(signal, set);
    receivers = set;
  }
  return receivers;
}

/** The request headers, one object a User-Agent (the client writes an object's header lines once). */
const requestHeaders = new Map<string, Record<string, string>>();

function headersFor(userAgent: string): Record<string, string> {
  let headers = requestHeaders.get(userAgent);
  if (!headers) {
    headers = { 'user-agent': userAgent, accept: ACCEPT };
    requestHeaders.set(userAgent, headers);
  }
  return headers;
}

/** Sends one GET for `url` and receives its response. Never rejects: every outcome, failures included, is a value. */
export function receiveImage(url: URL, opts: ReceiveOptions): Promise<Exchange> {
  return new Promise((resolve) => {
    const receivers = opts.signal ? receiversOf(opts.signal) : undefined;
    const receiver: ImageReceiver = new ImageReceiver(opts, (outcome) => {
      receivers?.delete(receiver);
      resolve(outcome);
    });
    if (opts.signal?.aborted) {
      receiver.cut();
      return;
    }
    receivers?.add(receiver);
    opts.dispatcher.dispatch(
      {
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: 'GET',
        headers: headersFor(opts.userAgent),
        headersTimeout: opts.timeoutMs,
        bodyTimeout: opts.timeoutMs,
      },
      receiver,
    );
  });
}
