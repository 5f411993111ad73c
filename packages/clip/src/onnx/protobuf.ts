// A minimal protobuf writer: just the wire types ONNX needs. Messages are kept as lists of chunks so that large
// weight buffers (hundreds of MB for rn50) are referenced, never copied, until the file is written.

export class ProtoWriter {
  readonly chunks: Uint8Array[] = [];
  length = 0;
  private scratch: number[] = [];

  private flushScratch(): void {
    if (this.scratch.length === 0) return;
    const bytes = Uint8Array.from(this.scratch);
    this.chunks.push(bytes);
    this.length += bytes.length;
    this.scratch = [];
  }

  private pushBytes(bytes: Uint8Array): void {
    this.flushScratch();
    this.chunks.push(bytes);
    this.length += bytes.length;
  }

  private varint(value: number | bigint): void {
    // int64 semantics: negative numbers take ten bytes in two's complement, as protobuf specifies.
    let v = BigInt.asUintN(64, BigInt(value));
    while (v >= 0x80n) {
      this.scratch.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.scratch.push(Number(v));
  }

  private key(field: number, wireType: 0 | 1 | 2 | 5): void {
    this.varint((field << 3) | wireType);
  }

  /** int32, int64, enum and bool fields (wire type 0). */
  int(field: number, value: number | bigint): this {
    this.key(field, 0);
    this.varint(value);
    return this;
  }

  float(field: number, value: number): this {
    this.key(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    for (const x of b) this.scratch.push(x);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.key(field, 2);
    this.varint(value.length);
    this.pushBytes(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  /** Packed repeated int64 (the proto3 default for repeated scalars, which ONNX parsers accept). */
  packedInts(field: number, values: ArrayLike<number | bigint>): this {
    const inner = new ProtoWriter();
    for (let i = 0; i < values.length; i++) inner.varint(values[i]);
    inner.flushScratch();
    return this.message(field, inner);
  }

  packedFloats(field: number, values: ArrayLike<number>): this {
    const f = Float32Array.from(values as ArrayLike<number>);
    return this.bytes(field, new Uint8Array(f.buffer, f.byteOffset, f.byteLength));
  }

  message(field: number, inner: ProtoWriter): this {
    inner.flushScratch();
    this.key(field, 2);
    this.varint(inner.length);
    this.flushScratch();
    for (const c of inner.chunks) this.chunks.push(c);
    this.length += inner.length;
    return this;
  }

  /** The encoded chunks, in order; concatenated they are the message. */
  finish(): Uint8Array[] {
    this.flushScratch();
    return this.chunks;
  }
}
