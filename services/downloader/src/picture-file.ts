// Where a response body goes as it arrives: counted against MAX_IMAGE_BYTES, sniffed from its first bytes, hashed for
// its content id, and written to a temporary file next to its final place (created only once the bytes are known to be
// a picture). Chunks that queue up while a write is in flight go to the file in one writev, so memory stays bounded
// by the stream's high-water mark however small the server's chunks are.
import { createHash, type Hash } from 'node:crypto';
import { type FileHandle, open, rm } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { SNIFF_BYTES } from '@image-search/picture-store';
import { type Sniffed, sniffImage } from './sniff.ts';
import { tempPathFor } from './store.ts';

export type ImageSniff = Extract<Sniffed, { kind: 'image' }>;

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

export class PictureFile extends Writable {
  bytes = 0;
  image: ImageSniff | undefined;
  /** The temporary file, once one was created. */
  tmp: string | undefined;
  private fh: FileHandle | undefined;
  private head: Buffer[] = [];
  private readonly hash: Hash = createHash('sha256');

  constructor(
    private readonly dir: string,
    private readonly stem: string,
    private readonly maxBytes: number,
    private readonly onBytes: (n: number) => void,
  ) {
    super({ highWaterMark: 64 * 1024 });
  }

  /** sha256 of the bytes written, hex: the id the embedder gives the picture. */
  contentId(): string {
    return this.hash.digest('hex');
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.take([chunk]).then(() => done(), done);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, done: (err?: Error | null) => void): void {
    this.take(chunks.map((c) => c.chunk)).then(() => done(), done);
  }

  override _final(done: (err?: Error | null) => void): void {
    const finish = async () => {
      if (!this.image) await this.decide();
      await this.fh?.close();
      this.fh = undefined;
    };
    finish().then(() => done(), done);
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    if (!err) {
      done(null);
      return;
    }
    this.discard().then(
      () => done(err),
      (cleanup) => done(cleanup),
    );
  }

  /** Removes the temporary file (a failure, or a download cut afterwards). */
  async discard(): Promise<void> {
    const { fh, tmp } = this;
    this.fh = undefined;
    this.tmp = undefined;
    await fh?.close().catch(() => {});
    if (tmp) await rm(tmp, { force: true });
  }

  private async take(chunks: Buffer[]): Promise<void> {
    const before = this.bytes;
    for (const chunk of chunks) {
      this.bytes += chunk.length;
      this.hash.update(chunk);
    }
    this.onBytes(this.bytes - before);
    if (this.bytes > this.maxBytes) {
      throw new Rejection('too_large', `larger than MAX_IMAGE_BYTES (${this.maxBytes} bytes)`);
    }
    if (this.image) {
      await this.writeAll(chunks);
      return;
    }
    this.head.push(...chunks);
    if (this.bytes >= SNIFF_BYTES) await this.decide();
  }

  /** Sniffs what came so far; a picture gets its temporary file and the bytes held until now. */
  private async decide(): Promise<void> {
    const head = Buffer.concat(this.head);
    this.head = [];
    const sniffed = await sniffImage(head);
    if (sniffed.kind === 'rejected') throw new Rejection(sniffed.reason, sniffed.detail);
    this.image = sniffed;
    this.tmp = tempPathFor(this.dir, this.stem);
    this.fh = await open(this.tmp, 'wx');
    await this.writeAll([head]);
  }

  private async writeAll(chunks: Buffer[]): Promise<void> {
    const fh = this.fh as FileHandle;
    let rest = chunks;
    while (rest.length > 0) {
      let { bytesWritten } = await fh.writev(rest);
      let i = 0;
      while (i < rest.length && bytesWritten >= rest[i].length) bytesWritten -= rest[i++].length;
      rest = rest.slice(i);
      if (bytesWritten > 0) rest[0] = rest[0].subarray(bytesWritten);
    }
  }
}
