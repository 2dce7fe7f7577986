/**
 * `redis.set` / `redis.hset`: one command per record (SET key value [PX
 * ttl]; HSET key field value, then PEXPIRE key ttl), pipelined through one
 * ioredis client per sink: a batch goes out after a short linger (5 ms) or
 * at 1,000 commands, and every checkpoint (flush) waits for all of them.
 *
 * Guarantee: idempotent overwrites. A restart replays the records after the
 * last checkpoint, which write the same keys with the same values again (a
 * TTL starts over), so the end state is exactly-once. While Redis is
 * unreachable ioredis reconnects with backoff and commands wait (so does a
 * checkpoint); a command Redis refuses (a key of the wrong type) sends its
 * record to the dead-letter output with Redis's message. The server comes
 * from PIPEC_REDIS_URL (redis://[:password@]host:port[/db]).
 */
import { Redis } from 'ioredis';
import { parseDuration, type Duration } from '../../../api/duration.ts';
import type { RedisValue } from './api.ts';
import { recordText } from '../print/runtime.ts';
import { unreachableServers, type SinkConnector, type SinkContext } from '../types.ts';

const LINGER_MS = 5;
const BATCH = 1000;

/** One command of a record. */
interface Command { args: Array<string | Buffer>; expire: Array<string> | null; record: unknown; position: number }

/** A value function's result that Redis cannot store (the record is a dead letter). */
class InvalidValue extends Error {}

/** The value of a value function as Redis stores it. */
function valueArgument(value: RedisValue): string | Buffer {
  if (typeof value === 'string' || Buffer.isBuffer(value)) return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  throw new InvalidValue(`the value function returned ${value === null ? 'null' : typeof value === 'number' ? String(value) : typeof value}: it must return a string, a finite number or a Buffer`);
}

/** Pipelined writes of one sink; subclasses turn a record into its command. */
abstract class RedisSink implements SinkConnector {
  private client: Redis | null = null;
  private queue: Command[] = [];
  private timer: NodeJS.Timeout | null = null;
  private sending: Promise<void> = Promise.resolve();
  private failure: Error | null = null;
  private received = 0;
  protected readonly ttl: number | null;
  private readonly label: string;

  constructor(protected readonly ctx: SinkContext) {
    const ttl = ctx.options.ttl as Duration | undefined;
    this.ttl = ttl === undefined ? null : parseDuration(ttl);
    this.label = `redis ${this.url().replace(/\/\/[^@]*@/, '//')}`;
  }

  private url(): string {
    const url = process.env.PIPEC_REDIS_URL;
    if (!url) throw new Error('the Redis sinks need PIPEC_REDIS_URL (redis://[:password@]host:port[/db])');
    return url;
  }

  private connect(): Redis {
    if (!this.client) {
      // Commands wait while the connection is down (no retry limit), so nothing is dropped during an outage.
      const client = new Redis(this.url(), { maxRetriesPerRequest: null, enableAutoPipelining: false, retryStrategy: (attempt) => Math.min(100 * 2 ** Math.min(attempt, 6), 5000) });
      client.on('error', (error: Error) => {
        if (!unreachableServers.has(this.label)) {
          unreachableServers.set(this.label, { since: Date.now(), reason: error.message });
          this.ctx.log.warn({ server: this.label, err: error.message }, 'lost the connection to Redis; commands wait while it reconnects');
        }
      });
      client.on('ready', () => { if (unreachableServers.delete(this.label)) this.ctx.log.info({ server: this.label }, 'Redis answers again'); });
      this.client = client;
    }
    return this.client;
  }

  /** The command for a record (the user's key and value functions run here). */
  protected abstract command(record: unknown): { args: Array<string | Buffer>; key: string };

  write(value: unknown): void {
    if (this.failure) throw this.failure;
    const position = ++this.received;
    let command: { args: Array<string | Buffer>; key: string };
    try {
      command = this.command(value);
    } catch (error) {
      // An exception in the user's key or value function is the job's to report (with its location); a bad result is a dead letter here.
      if (!(error instanceof InvalidValue)) throw error;
      this.ctx.deadLetter?.({ origin: `redis.${this.ctx.options.field ? 'hset' : 'set'}`, position, reason: error.message, raw: recordText(value) });
      return;
    }
    const { args, key } = command;
    this.queue.push({ args, expire: this.ttl !== null && args[0] === 'hset' ? ['pexpire', key, String(this.ttl)] : null, record: value, position });
    if (this.queue.length >= BATCH) this.send();
    else this.timer ??= setTimeout(() => this.send(), LINGER_MS);
  }

  private send(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.queue.length === 0) return;
    const commands = this.queue;
    this.queue = [];
    const client = this.connect();
    this.sending = this.sending.then(async () => {
      const pipeline = client.pipeline();
      for (const c of commands) {
        pipeline.call(...(c.args as [string, ...Array<string | Buffer>]));
        if (c.expire) pipeline.call(...(c.expire as [string, ...string[]]));
      }
      const results = (await pipeline.exec()) ?? [];
      let at = 0;
      for (const c of commands) {
        const errors = [results[at]?.[0], c.expire ? results[at + 1]?.[0] : null].filter(Boolean) as Error[];
        at += c.expire ? 2 : 1;
        if (errors.length) this.ctx.deadLetter?.({ origin: `redis.${String(c.args[0])}`, position: c.position, reason: `Redis refused the command: ${errors[0].message}`, raw: recordText(c.record) });
      }
    }).catch((error: unknown) => { this.failure ??= error as Error; });
  }

  async flush(): Promise<void> {
    this.send();
    await this.sending;
    if (this.failure) throw this.failure;
  }

  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      await this.client?.quit().catch(() => undefined);
      this.client = null;
    }
  }

  async abort(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.queue = [];
    this.client?.disconnect();
    this.client = null;
  }
}

/** `redis.set`: SET key value, with PX ttl when a ttl is given. */
export class RedisSetSink extends RedisSink {
  protected command(record: unknown): { args: Array<string | Buffer>; key: string } {
    const { key, value } = this.ctx.options as { key: (r: unknown) => string; value: (r: unknown) => RedisValue };
    const k = key(record);
    const args: Array<string | Buffer> = ['set', k, valueArgument(value(record))];
    if (this.ttl !== null) args.push('px', String(this.ttl));
    return { args, key: k };
  }
}

/** `redis.hset`: HSET key field value, then PEXPIRE key ttl when a ttl is given. */
export class RedisHsetSink extends RedisSink {
  protected command(record: unknown): { args: Array<string | Buffer>; key: string } {
    const { key, field, value } = this.ctx.options as { key: (r: unknown) => string; field: (r: unknown) => string; value: (r: unknown) => RedisValue };
    const k = key(record);
    return { args: ['hset', k, field(record), valueArgument(value(record))], key: k };
  }
}
