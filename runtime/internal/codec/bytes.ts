/**
 * The byte layer of the edge codec: a growable writer and a bounds-checked
 * reader with the few primitives every encoding here is made of (unsigned
 * varints, little-endian float64, strings, bigints, raw bytes). Generated
 * encoders and decoders (./compile.ts) and the self-describing encoding
 * (./tagged.ts) call these small methods, which V8 inlines.
 *
 * Strings: a varint header `(byteLength << 1) | utf16`, then UTF-8 bytes, or
 * UTF-16LE code units when the string has a lone surrogate (UTF-8 cannot hold
 * one, and records must arrive exactly as they left).
 */
import os from 'node:os';

if (os.endianness() !== 'LE') throw new Error('pipec edge codec: big-endian platforms are not supported');

const MIN_I64 = -(2n ** 63n);
const MAX_I64 = 2n ** 63n - 1n;

/** Buffer's unchecked slice methods (present on every Node Buffer, missing from @types/node). */
interface FastBuffer extends Buffer {
  utf8Slice(start: number, end: number): string;
  ucs2Slice(start: number, end: number): string;
  utf8Write(text: string, offset: number, length: number): number;
}

const isWellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed();

/** Size of the slabs records are written into. */
const SLAB_SIZE = 1 << 16;

/**
 * Appends bytes to a slab (Node's Buffer pool idea): a record is written after
 * the previous one and `finish()` returns a view of it without copying; a slab
 * that fills up is left to the records that view it and a new one is started.
 */
export class ByteWriter {
  buf: FastBuffer;
  /** The same slab as a DataView (TurboFan inlines its float and bigint accessors). */
  private view: DataView;
  /** Where the current record starts. */
  start = 0;
  pos = 0;

  constructor() {
    this.buf = Buffer.allocUnsafeSlow(SLAB_SIZE) as FastBuffer;
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
  }

  /** Starts a record (dropping a partly written one). */
  begin(): void { this.pos = this.start; }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(n);
  }

  /** Moves the current record to a new slab with room for `n` more bytes. */
  private grow(n: number): void {
    const used = this.pos - this.start;
    const next = Buffer.allocUnsafeSlow(Math.max(SLAB_SIZE, (used + n) * 2)) as FastBuffer;
    this.buf.copy(next, 0, this.start, this.pos);
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.length);
    this.start = 0;
    this.pos = used;
  }

  /** The current record: a view that stays valid (its slab is never written again at those bytes). */
  finish(): Buffer {
    const out = Buffer.from(this.buf.buffer, this.buf.byteOffset + this.start, this.pos - this.start);
    this.start = this.pos;
    return out;
  }

  /** One byte. */
  u8(b: number): void {
    if (this.pos >= this.buf.length) this.grow(1);
    this.buf[this.pos++] = b;
  }

  /** An unsigned integer below 2^53, 7 bits per byte. */
  varint(n: number): void {
    this.ensure(8);
    const buf = this.buf;
    let pos = this.pos;
    while (n >= 0x80) { buf[pos++] = (n & 0x7f) | 0x80; n = Math.floor(n / 128); }
    buf[pos++] = n;
    this.pos = pos;
  }

  /** A float64, little-endian: every number exactly (NaN, -0, ±Infinity included). */
  f64(v: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
  }

  /** A string (see the file header). */
  str(s: string): void {
    const n = s.length;
    if (n < 64) {
      // ASCII first (one byte per unit, a 1-byte header); anything else starts over in strGeneral.
      this.ensure(2 + n * 3);
      const buf = this.buf;
      const start = this.pos;
      let pos = start + 1;
      for (let i = 0; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) { this.strGeneral(s); return; }
        buf[pos++] = c;
      }
      buf[start] = n << 1;
      this.pos = pos;
      return;
    }
    this.strGeneral(s);
  }

  private strGeneral(s: string): void {
    const n = s.length;
    if (n < 64) {
      // At most 3 bytes per UTF-16 unit: a 1-byte header below 22 units, 2 bytes below 64.
      const headerBytes = n < 22 ? 1 : 2;
      this.ensure(headerBytes + n * 3);
      const buf = this.buf;
      const start = this.pos;
      let pos = start + headerBytes;
      for (let i = 0; i < n; i++) {
        let c = s.charCodeAt(i);
        if (c < 0x80) buf[pos++] = c;
        else if (c < 0x800) { buf[pos++] = 0xc0 | (c >> 6); buf[pos++] = 0x80 | (c & 0x3f); }
        else if (c >= 0xd800 && c <= 0xdfff) {
          const low = i + 1 < n ? s.charCodeAt(i + 1) : 0;
          if (c > 0xdbff || low < 0xdc00 || low > 0xdfff) { this.utf16(s); return; }
          i++;
          c = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
          buf[pos++] = 0xf0 | (c >> 18); buf[pos++] = 0x80 | ((c >> 12) & 0x3f); buf[pos++] = 0x80 | ((c >> 6) & 0x3f); buf[pos++] = 0x80 | (c & 0x3f);
        } else { buf[pos++] = 0xe0 | (c >> 12); buf[pos++] = 0x80 | ((c >> 6) & 0x3f); buf[pos++] = 0x80 | (c & 0x3f); }
      }
      const header = (pos - start - headerBytes) << 1;
      if (headerBytes === 1) buf[start] = header;
      else { buf[start] = (header & 0x7f) | 0x80; buf[start + 1] = header >> 7; }
      this.pos = pos;
      return;
    }
    if (!isWellFormed(s)) { this.utf16(s); return; }
    // Reserve a header wide enough for the worst case and write it in that width (a non-minimal varint reads the same).
    const max = n * 3;
    const headerBytes = varintSize(max * 2);
    this.ensure(headerBytes + max);
    const written = this.buf.utf8Write(s, this.pos + headerBytes, max);
    this.fixedVarint(written * 2, headerBytes);
    this.pos += headerBytes + written;
  }

  private utf16(s: string): void {
    this.varint(s.length * 4 + 1);
    this.ensure(s.length * 2);
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < s.length; i++) { const c = s.charCodeAt(i); buf[pos++] = c & 0xff; buf[pos++] = c >> 8; }
    this.pos = pos;
  }

  private fixedVarint(n: number, width: number): void {
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < width - 1; i++) { buf[pos++] = (n & 0x7f) | 0x80; n = Math.floor(n / 128); }
    buf[pos] = n;
  }

  /** A bigint: 8 bytes when it fits in int64, else its decimal text. */
  bigint(v: bigint): void {
    if (v >= MIN_I64 && v <= MAX_I64) {
      this.ensure(9);
      this.buf[this.pos] = 0;
      this.view.setBigInt64(this.pos + 1, v, true);
      this.pos += 9;
    } else {
      this.u8(1);
      this.str(v.toString());
    }
  }

  /** A length and raw bytes. */
  bytes(view: ArrayBufferView): void {
    const n = view.byteLength;
    this.varint(n);
    this.ensure(n);
    this.buf.set(new Uint8Array(view.buffer, view.byteOffset, n), this.pos);
    this.pos += n;
  }
}

/**
 * `shortAscii(buf, start, length)` for length 0..16: the string, or null when a byte is not ASCII.
 * Generated once: one case per length, each `String.fromCharCode(b0, ..., bn)`.
 */
const shortAscii = new Function('buf', 'start', 'length', [
  'switch (length) {',
  ...Array.from({ length: 17 }, (_, n) => {
    const bytes = Array.from({ length: n }, (_, i) => `b${i}`);
    if (n === 0) return "  case 0: return '';";
    return `  case ${n}: { ${bytes.map((b, i) => `const ${b} = buf[start + ${i}];`).join(' ')} return (${bytes.join(' | ')}) < 0x80 ? String.fromCharCode(${bytes.join(', ')}) : null; }`;
  }),
  '}',
  'return null;',
].join('\n')) as (buf: Uint8Array, start: number, length: number) => string | null;

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) { n = Math.floor(n / 128); size++; }
  return size;
}

/** Reads what ByteWriter wrote; `done()` checks that exactly the whole input was read. */
export class ByteReader {
  buf: FastBuffer = Buffer.alloc(0) as FastBuffer;
  pos = 0;
  end = 0;
  /** A DataView over the whole ArrayBuffer under `buf` (records of one Kafka fetch, or one writer slab, share it), and where `buf` starts in it. */
  private view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
  private base = 0;

  /** Starts reading `bytes`. */
  reset(bytes: Uint8Array): void {
    this.buf = (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)) as FastBuffer;
    this.pos = 0;
    this.end = this.buf.length;
    if (this.view.buffer !== bytes.buffer) this.view = new DataView(bytes.buffer);
    this.base = bytes.byteOffset;
  }

  /** Throws unless the input was consumed exactly (a truncated or corrupt record). */
  done(): void {
    if (this.pos !== this.end) throw new Error(`edge record: ${this.pos > this.end ? 'truncated' : 'trailing bytes'} (${this.end} bytes, read ${this.pos})`);
  }

  /** One byte. */
  u8(): number {
    return this.buf[this.pos++];
  }

  /** An unsigned varint. */
  varint(): number {
    const buf = this.buf;
    let b = buf[this.pos++];
    if (b < 0x80) return b;
    let n = b & 0x7f, scale = 128;
    do {
      b = buf[this.pos++];
      if (b === undefined) throw new Error('edge record: truncated');
      n += (b & 0x7f) * scale;
      scale *= 128;
    } while (b >= 0x80);
    return n;
  }

  /** A float64. */
  f64(): number {
    const pos = this.pos;
    if (pos + 8 > this.end) throw new Error('edge record: truncated');
    this.pos = pos + 8;
    return this.view.getFloat64(this.base + pos, true);
  }

  /** A string. */
  str(): string {
    const header = this.varint();
    const length = Math.floor(header / 2);
    const start = this.pos, end = start + length;
    if (end > this.end) throw new Error('edge record: truncated');
    this.pos = end;
    if (header & 1) return this.buf.ucs2Slice(start, end);
    if (length <= 16) {
      // Short ASCII strings are the common case; fromCharCode with the bytes as arguments builds a flat string without a call into C++.
      const text = shortAscii(this.buf, start, length);
      if (text !== null) return text;
    }
    return this.buf.utf8Slice(start, end);
  }

  /** A bigint. */
  bigint(): bigint {
    if (this.u8() === 1) return BigInt(this.str());
    const pos = this.pos;
    if (pos + 8 > this.end) throw new Error('edge record: truncated');
    this.pos = pos + 8;
    return this.view.getBigInt64(this.base + pos, true);
  }

  /** Raw bytes written by `ByteWriter.bytes`, copied into a fresh ArrayBuffer (so typed arrays are aligned and own their memory). */
  bytes(): ArrayBuffer {
    const n = this.varint();
    if (this.pos + n > this.end) throw new Error('edge record: truncated');
    const copy = new Uint8Array(n);
    copy.set(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return copy.buffer;
  }
}
