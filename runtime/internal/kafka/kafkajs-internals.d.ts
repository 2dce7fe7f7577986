/**
 * Types of the kafkajs module the client uses beyond the package's public API
 * (kafkajs 2.2.4 has no `exports` map; the path is stable in 2.x): the batch
 * of one fetched partition, which drops control records, records of aborted
 * transactions and records before the fetched offset.
 */
declare module 'kafkajs/src/consumer/batch.js' {
  interface FetchedMessage { offset: string; key: Buffer | null; value: Buffer | null; isControlRecord?: boolean }
  export default class Batch {
    constructor(topic: string, fetchedOffset: string, partitionData: { partition: number; highWatermark: string; abortedTransactions?: unknown[]; messages: FetchedMessage[] });
    /** Records to deliver: committed, not control records, at or after the fetched offset. */
    readonly messages: FetchedMessage[];
    /** Every record at or after the fetched offset, control records and aborted ones included. */
    readonly messagesWithinOffset: FetchedMessage[];
  }
}
