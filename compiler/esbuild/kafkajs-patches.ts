/**
 * Faster versions of three kafkajs 2.2.4 modules on the produce path, which
 * bundles get instead of the originals (kafkajs is in maintenance mode, so
 * these fixes will not come from upstream). Each produces exactly what the
 * module it replaces does (test/unit/kafkajs-patches.test.ts compares the
 * bytes), only without its per-message cost:
 *
 * - `producer/groupMessagesPerPartition.js` groups a batch's messages with
 *   `[...current, message]` per message: quadratic in the batch.
 * - `protocol/requests/produce/v3/request.js` (every Produce version from 3
 *   to 7 encodes through it) builds each record with its own Encoder (a
 *   Buffer each), spreads each message into a new object and does 64-bit
 *   arithmetic with Long objects; the replacement sizes a partition's record
 *   batch once and writes every record into one Buffer. Compressed batches
 *   keep kafkajs's own encoding (pipec does not compress).
 * - `protocol/recordBatch/crc32C/crc32C.js` computes a batch's CRC-32C a byte
 *   at a time; the replacement reads 8 bytes per step (slicing-by-8, with
 *   tables derived from kafkajs's own).
 */
import type { Plugin } from 'esbuild';

/** groupMessagesPerPartition, linear: messages in order, per partition. */
export const LINEAR_GROUPING = `module.exports = ({ topic, partitionMetadata, messages, partitioner }) => {
  if (partitionMetadata.length === 0) return {}
  const result = {}
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message })
    const list = result[partition]
    if (list) list.push(message)
    else result[partition] = [message]
  }
  return result
}
`;

/** CRC-32C (Castagnoli), slicing-by-8 over tables built from the byte-wise table. */
export const SLICED_CRC32C = `const T = new Int32Array(8 * 256)
for (let n = 0; n < 256; n++) {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1
  T[n] = c
}
for (let n = 0; n < 256; n++) {
  for (let t = 1; t < 8; t++) T[t * 256 + n] = T[(T[(t - 1) * 256 + n] & 0xff)] ^ (T[(t - 1) * 256 + n] >>> 8)
}
const crc32C = buffer => {
  let crc = -1
  let i = 0
  const end8 = buffer.length - (buffer.length & 7)
  for (; i < end8; i += 8) {
    const lo = crc ^ (buffer[i] | (buffer[i + 1] << 8) | (buffer[i + 2] << 16) | (buffer[i + 3] << 24))
    const hi = buffer[i + 4] | (buffer[i + 5] << 8) | (buffer[i + 6] << 16) | (buffer[i + 7] << 24)
    crc = T[1792 + (lo & 0xff)] ^ T[1536 + ((lo >>> 8) & 0xff)] ^ T[1280 + ((lo >>> 16) & 0xff)] ^ T[1024 + (lo >>> 24)] ^
      T[768 + (hi & 0xff)] ^ T[512 + ((hi >>> 8) & 0xff)] ^ T[256 + ((hi >>> 16) & 0xff)] ^ T[hi >>> 24]
  }
  for (; i < buffer.length; i++) crc = T[(crc ^ buffer[i]) & 0xff] ^ (crc >>> 8)
  return (crc ^ -1) >>> 0
}
module.exports = crc32C
`;

/** The Produce v3 request (used by v3–v7) with a one-Buffer record batch encoder. */
export const PRODUCE_REQUEST_V3 = `const Long = require('../../../../utils/long')
const Encoder = require('../../../encoder')
const { Produce: apiKey } = require('../../apiKeys')
const { Types } = require('../../../message/compression')
const Record = require('../../../recordBatch/record/v0')
const { RecordBatch } = require('../../../recordBatch/v0')
const crc32C = require('../../../recordBatch/crc32C')

module.exports = ({
  acks,
  timeout,
  transactionalId = null,
  producerId = Long.fromInt(-1),
  producerEpoch = 0,
  compression = Types.None,
  topicData,
}) => ({
  apiKey,
  apiVersion: 3,
  apiName: 'Produce',
  expectResponse: () => acks !== 0,
  encode: async () => {
    const encodeTopic = topicEncoder(compression)
    const encodedTopicData = []
    for (const data of topicData) {
      encodedTopicData.push(await encodeTopic({ ...data, transactionalId, producerId, producerEpoch }))
    }
    return new Encoder()
      .writeString(transactionalId)
      .writeInt16(acks)
      .writeInt32(timeout)
      .writeArray(encodedTopicData)
  },
})

const topicEncoder = compression => async ({ topic, partitions, transactionalId, producerId, producerEpoch }) => {
  const encodePartitions = compression === Types.None ? encodePlainPartition : compressedPartitionsEncoder(compression)
  const encodedPartitions = []
  for (const data of partitions) {
    encodedPartitions.push(await encodePartitions({ ...data, transactionalId, producerId, producerEpoch }))
  }
  return new Encoder().writeString(topic).writeArray(encodedPartitions)
}

// Zigzag varints of numbers (varlongs too: timestamps and their deltas are safe integers).
const zigzag = v => (v >= 0 ? v * 2 : -v * 2 - 1)
const sizeOfUVar = z => {
  let bytes = 1
  while (z >= 128) { z = Math.floor(z / 128); bytes++ }
  return bytes
}
const sizeOfVar = v => sizeOfUVar(zigzag(v))
const writeUVar = (buf, at, z) => {
  while (z >= 128) { buf[at++] = (z % 128) | 128; z = Math.floor(z / 128) }
  buf[at++] = z
  return at
}
const writeVar = (buf, at, v) => writeUVar(buf, at, zigzag(v))
/** Bytes of a key, value or header value as kafkajs writes it: a Buffer as is, null as absent, anything else as the UTF-8 of String(value). */
const byteSize = v => (v == null ? -1 : Buffer.isBuffer(v) ? v.length : Buffer.byteLength(String(v), 'utf8'))
const sizeOfBytes = size => (size < 0 ? 1 : sizeOfVar(size) + size)
const writeBytes = (buf, at, v, size) => {
  if (size < 0) return writeVar(buf, at, -1)
  at = writeVar(buf, at, size)
  if (Buffer.isBuffer(v)) { v.copy(buf, at); return at + size }
  return at + buf.write(String(v), at, size, 'utf8')
}
const headerList = headers => {
  const list = []
  if (headers) {
    for (const key of Object.keys(headers)) {
      const value = headers[key]
      if (Array.isArray(value)) for (const v of value) list.push(key, v)
      else list.push(key, value)
    }
  }
  return list
}

/** One partition's record batch (magic 2, uncompressed), written into one Buffer: the same bytes kafkajs's Record and RecordBatch produce. */
const encodePlainPartition = async ({ partition, messages, transactionalId, firstSequence, producerId, producerEpoch }) => {
  const count = messages.length
  const dateNow = Date.now()
  let firstTimestamp = Infinity
  let maxTimestamp = -Infinity
  for (let i = 0; i < count; i++) {
    const ts = messages[i].timestamp
    if (ts == null) continue
    const t = Number(ts)
    if (t < firstTimestamp) firstTimestamp = t
    if (t > maxTimestamp) maxTimestamp = t
  }
  if (firstTimestamp === Infinity) firstTimestamp = maxTimestamp = dateNow
  const sizes = new Array(count * 4)
  const headers = new Array(count)
  let recordsBytes = 0
  for (let i = 0; i < count; i++) {
    const m = messages[i]
    const keySize = byteSize(m.key)
    const valueSize = byteSize(m.value)
    const list = headerList(m.headers)
    let headersSize = sizeOfVar(list.length / 2)
    for (let h = 0; h < list.length; h += 2) {
      const k = list[h]
      headersSize += k == null ? 1 : sizeOfBytes(Buffer.byteLength(k, 'utf8'))
      headersSize += sizeOfBytes(byteSize(list[h + 1]))
    }
    const delta = Number(m.timestamp || dateNow) - firstTimestamp
    const body = 1 + sizeOfVar(delta) + sizeOfVar(i) + sizeOfBytes(keySize) + sizeOfBytes(valueSize) + headersSize
    sizes[i * 4] = body
    sizes[i * 4 + 1] = keySize
    sizes[i * 4 + 2] = valueSize
    sizes[i * 4 + 3] = delta
    headers[i] = list
    recordsBytes += sizeOfVar(body) + body
  }
  // Attributes to the end of the records: what the CRC covers.
  const bodyBytes = 2 + 4 + 8 + 8 + 8 + 2 + 4 + 4 + recordsBytes
  const batch = Buffer.allocUnsafe(8 + 4 + 4 + 1 + 4 + bodyBytes)
  let at = 0
  batch.writeInt32BE(0, 0); batch.writeInt32BE(0, 4) // base offset
  batch.writeInt32BE(4 + 1 + 4 + bodyBytes, 8) // batch length: what follows it
  batch.writeInt32BE(0, 12) // partition leader epoch
  batch[16] = 2 // magic
  const crcAt = 17
  at = 21
  const bodyStart = at
  batch.writeInt16BE(transactionalId ? 16 : 0, at); at += 2
  batch.writeInt32BE(count - 1, at); at += 4
  const long = (value) => { const l = Long.fromValue(value); batch.writeInt32BE(l.getHighBits(), at); batch.writeInt32BE(l.getLowBits(), at + 4); at += 8 }
  long(firstTimestamp)
  long(maxTimestamp)
  long(producerId)
  batch.writeInt16BE(producerEpoch, at); at += 2
  batch.writeInt32BE(firstSequence || 0, at); at += 4
  batch.writeInt32BE(count, at); at += 4
  for (let i = 0; i < count; i++) {
    const m = messages[i]
    at = writeVar(batch, at, sizes[i * 4])
    batch[at++] = 0 // record attributes
    at = writeVar(batch, at, sizes[i * 4 + 3])
    at = writeVar(batch, at, i)
    at = writeBytes(batch, at, m.key, sizes[i * 4 + 1])
    at = writeBytes(batch, at, m.value, sizes[i * 4 + 2])
    const list = headers[i]
    at = writeVar(batch, at, list.length / 2)
    for (let h = 0; h < list.length; h += 2) {
      const k = list[h]
      at = writeBytes(batch, at, k, k == null ? -1 : Buffer.byteLength(k, 'utf8'))
      const v = list[h + 1]
      at = writeBytes(batch, at, v, byteSize(v))
    }
  }
  if (at !== batch.length) throw new Error('internal: record batch size mismatch (' + at + ' of ' + batch.length + ')')
  batch.writeUInt32BE(crc32C(batch.subarray(bodyStart)), crcAt)
  return new Encoder().writeInt32(partition).writeInt32(batch.length).writeBuffer(batch)
}

/** kafkajs's own encoding, for compressed batches. */
const compressedPartitionsEncoder = compression => async ({
  partition,
  messages,
  transactionalId,
  firstSequence,
  producerId,
  producerEpoch,
}) => {
  const dateNow = Date.now()
  const messageTimestamps = messages
    .map(m => m.timestamp)
    .filter(timestamp => timestamp != null)
    .sort()

  const timestamps = messageTimestamps.length === 0 ? [dateNow] : messageTimestamps
  const firstTimestamp = timestamps[0]
  const maxTimestamp = timestamps[timestamps.length - 1]

  const records = messages.map((message, i) =>
    Record({
      ...message,
      offsetDelta: i,
      timestampDelta: (message.timestamp || dateNow) - firstTimestamp,
    })
  )

  const recordBatch = await RecordBatch({
    compression,
    records,
    firstTimestamp,
    maxTimestamp,
    producerId,
    producerEpoch,
    firstSequence,
    transactional: !!transactionalId,
    lastOffsetDelta: records.length - 1,
  })

  return new Encoder()
    .writeInt32(partition)
    .writeInt32(recordBatch.size())
    .writeEncoder(recordBatch)
}
`;

/** The kafkajs modules bundles replace, by path inside the package. */
export const KAFKAJS_PATCHES: ReadonlyArray<{ file: string; contents: string }> = [
  { file: 'src/producer/groupMessagesPerPartition.js', contents: LINEAR_GROUPING },
  { file: 'src/protocol/requests/produce/v3/request.js', contents: PRODUCE_REQUEST_V3 },
  { file: 'src/protocol/recordBatch/crc32C/crc32C.js', contents: SLICED_CRC32C },
];

/** Gives bundles the modules of KAFKAJS_PATCHES instead of kafkajs's own. */
export function kafkajsPatches(): Plugin {
  const byPath = new Map(KAFKAJS_PATCHES.map((p) => [p.file, p.contents]));
  return {
    name: 'pipec-kafkajs-patches',
    setup(build) {
      build.onLoad({ filter: /[\\/]kafkajs[\\/]src[\\/].*\.js$/ }, (args) => {
        const inPackage = args.path.split(/[\\/]kafkajs[\\/]/).pop()!.split('\\').join('/');
        const contents = byPath.get(inPackage);
        return contents === undefined ? undefined : { contents, loader: 'js' };
      });
    },
  };
}
