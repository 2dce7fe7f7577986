/**
 * A minimal reader of one topic partition, read committed, over Kafka's own
 * protocol (Fetch v4, record batches v2): the peers benchmark's output
 * watcher, which must see every record of the system under test as it
 * arrives without taking the CPU a full client's decoding does (kafkajs takes
 * ~3-4 µs a record, a large share of a 2-core machine at these rates). It
 * walks the record framing and hands out views of each record's key and value
 * (no copies); control batches and batches of aborted transactions are
 * skipped as Kafka's consumer skips them. Uncompressed batches only (neither
 * system compresses by default); anything else fails loudly.
 *
 * In: the partition's leader (host, port), topic, partition, start offset.
 * Out: `onRecord(key, value, offset)` for each committed data record, in order.
 */
import net from 'node:net';

const FETCH = 1;
const FETCH_VERSION = 4;
const READ_COMMITTED = 1;
const CONTROL = 0x20;
const TRANSACTIONAL = 0x10;
const COMPRESSION = 0x07;

/** A view of a record's key or value bytes. */
export type Bytes = Buffer | null;

/** Reads zigzag varints and raw fields from a buffer. */
class Cursor {
  constructor(readonly buf: Buffer, public at: number) {}
  varint(): number {
    let value = 0;
    let shift = 0;
    for (;;) {
      const b = this.buf[this.at++];
      value |= (b & 0x7f) << shift;
      if (b < 0x80) break;
      shift += 7;
      if (shift > 28) throw new Error('varint too long for this reader');
    }
    return (value >>> 1) ^ -(value & 1);
  }
  /** A varlong whose value is not needed (timestamp deltas), skipped. */
  skipVarlong(): void { while (this.buf[this.at++] >= 0x80); }
  bytes(length: number): Bytes {
    if (length < 0) return null;
    const view = this.buf.subarray(this.at, this.at + length);
    this.at += length;
    return view;
  }
}

/** Reads one partition from `offset` on until closed. */
export class PartitionReader {
  private socket!: net.Socket;
  private correlation = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private waiting: ((frame: Buffer) => void) | null = null;
  private failed: ((error: Error) => void) | null = null;
  private closed = false;
  private loop: Promise<void> = Promise.resolve();
  /** The next offset to fetch. */
  next: bigint;

  constructor(private readonly leader: { host: string; port: number }, private readonly topic: string, private readonly partition: number, offset: bigint, private readonly onRecord: (key: Bytes, value: Bytes, offset: bigint) => void) {
    this.next = offset;
  }

  /** Connects and fetches in a loop (one request in flight, waiting up to 100 ms for data). */
  async start(): Promise<void> {
    this.socket = net.createConnection(this.leader);
    await new Promise<void>((resolve, reject) => { this.socket.once('connect', resolve); this.socket.once('error', reject); });
    this.socket.on('data', (chunk: Buffer) => { this.pending.push(chunk); this.pendingBytes += chunk.length; this.deliver(); });
    this.socket.on('error', (error) => this.failed?.(error));
    this.socket.on('close', () => this.failed?.(new Error('the broker closed the connection')));
    this.loop = (async () => {
      while (!this.closed) this.handle(await this.fetch());
    })().catch((error: Error) => { if (!this.closed) throw error; });
  }

  /** Resolves when the loop ends; rejects with its error. */
  get done(): Promise<void> { return this.loop; }

  async close(): Promise<void> {
    this.closed = true;
    this.socket.destroy();
    await this.loop.catch(() => undefined);
  }

  /** Hands a complete response frame (after its size) to the waiting request. */
  private deliver(): void {
    if (!this.waiting || this.pendingBytes < 4) return;
    if (this.pending[0].length < 4) this.pending = [Buffer.concat(this.pending)];
    const size = this.pending[0].readInt32BE(0);
    // Joined once the whole frame is in (a large response comes in many chunks).
    if (this.pendingBytes < 4 + size) return;
    const head = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending);
    const frame = head.subarray(4, 4 + size);
    const rest = head.subarray(4 + size);
    this.pending = rest.length ? [rest] : [];
    this.pendingBytes = rest.length;
    const waiting = this.waiting;
    this.waiting = null;
    this.failed = null;
    waiting(frame);
  }

  private fetch(): Promise<Buffer> {
    const clientId = Buffer.from('bench-peers-watch');
    const topic = Buffer.from(this.topic);
    const body = Buffer.alloc(4 + 2 + 2 + 4 + 2 + clientId.length + 4 + 4 + 4 + 4 + 1 + 4 + 2 + topic.length + 4 + 4 + 8 + 4);
    let o = 4;
    o = body.writeInt16BE(FETCH, o);
    o = body.writeInt16BE(FETCH_VERSION, o);
    o = body.writeInt32BE(++this.correlation, o);
    o = body.writeInt16BE(clientId.length, o); o += clientId.copy(body, o);
    o = body.writeInt32BE(-1, o); // replica id: a consumer
    o = body.writeInt32BE(100, o); // max wait (ms)
    o = body.writeInt32BE(1, o); // min bytes
    o = body.writeInt32BE(64 << 20, o); // max bytes
    o = body.writeInt8(READ_COMMITTED, o);
    o = body.writeInt32BE(1, o);
    o = body.writeInt16BE(topic.length, o); o += topic.copy(body, o);
    o = body.writeInt32BE(1, o);
    o = body.writeInt32BE(this.partition, o);
    o = body.writeBigInt64BE(this.next, o);
    o = body.writeInt32BE(32 << 20, o); // partition max bytes
    body.writeInt32BE(o - 4, 0);
    return new Promise<Buffer>((resolve, reject) => {
      this.waiting = resolve;
      this.failed = reject;
      this.socket.write(body);
      this.deliver();
    });
  }

  /** Parses a Fetch v4 response for the one partition asked for, delivering its committed records. */
  private handle(frame: Buffer): void {
    let o = 4 + 4; // correlation id, throttle time
    if (frame.readInt32BE(o) !== 1) throw new Error('unexpected fetch response: not one topic'); o += 4;
    o += 2 + frame.readInt16BE(o);
    if (frame.readInt32BE(o) !== 1) throw new Error('unexpected fetch response: not one partition'); o += 4;
    o += 4; // partition
    const error = frame.readInt16BE(o); o += 2;
    if (error !== 0) throw new Error(`fetch of ${this.topic}/${this.partition} at ${this.next} failed with Kafka error code ${error}`);
    o += 8 + 8; // high watermark, last stable offset
    const abortedCount = frame.readInt32BE(o); o += 4;
    const aborted: Array<{ producerId: bigint; firstOffset: bigint }> = [];
    for (let i = 0; i < abortedCount; i++) { aborted.push({ producerId: frame.readBigInt64BE(o), firstOffset: frame.readBigInt64BE(o + 8) }); o += 16; }
    aborted.sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0));
    const size = frame.readInt32BE(o); o += 4;
    if (size <= 0) return;
    this.batches(frame.subarray(o, o + size), aborted);
  }

  private readonly abortedProducers = new Set<bigint>();

  /** Walks the record batches of a fetch (the last may be cut short: it is fetched again next time). */
  private batches(records: Buffer, aborted: Array<{ producerId: bigint; firstOffset: bigint }>): void {
    let nextAborted = 0;
    for (let at = 0; at + 61 <= records.length;) {
      const baseOffset = records.readBigInt64BE(at);
      const length = records.readInt32BE(at + 8);
      if (at + 12 + length > records.length) break;
      if (records.readInt8(at + 16) !== 2) throw new Error(`record batch of magic ${records.readInt8(at + 16)} at ${baseOffset}: this reader reads v2 batches only`);
      const attributes = records.readInt16BE(at + 21);
      const lastOffset = baseOffset + BigInt(records.readInt32BE(at + 23));
      const producerId = records.readBigInt64BE(at + 43);
      const count = records.readInt32BE(at + 57);
      while (nextAborted < aborted.length && aborted[nextAborted].firstOffset <= lastOffset) this.abortedProducers.add(aborted[nextAborted++].producerId);
      const cursor = new Cursor(records, at + 61);
      at += 12 + length;
      if (lastOffset < this.next) continue;
      // The first batch may start before the offset asked for: its earlier records were read already.
      const from = this.next;
      this.next = lastOffset + 1n;
      if (attributes & CONTROL) {
        // A transaction marker: key = version (int16), type (int16: 0 abort, 1 commit). An abort ends that producer's aborted data.
        cursor.varint(); cursor.at += 1; cursor.skipVarlong(); cursor.varint();
        const key = cursor.bytes(cursor.varint());
        if (key && key.readInt16BE(2) === 0) this.abortedProducers.delete(producerId);
        continue;
      }
      if ((attributes & TRANSACTIONAL) && this.abortedProducers.has(producerId)) continue;
      if (attributes & COMPRESSION) throw new Error(`compressed record batch at ${baseOffset} (codec ${attributes & COMPRESSION}): this reader reads uncompressed batches only`);
      for (let i = 0; i < count; i++) {
        const end = cursor.varint() + cursor.at;
        cursor.at += 1; // attributes
        cursor.skipVarlong(); // timestamp delta
        const offset = baseOffset + BigInt(cursor.varint());
        const key = cursor.bytes(cursor.varint());
        const value = cursor.bytes(cursor.varint());
        cursor.at = end; // headers
        if (offset >= from) this.onRecord(key, value, offset);
      }
    }
  }
}
