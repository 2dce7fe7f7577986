/** Structured JSON logs on stderr (pino), so stdout stays free for print sinks. */
import pino from 'pino';

/** A logger for one pipeline process. */
export function createLogger(pipeline: string, stage: string) {
  return pino({ base: { pipeline, stage }, level: process.env.PIPEC_LOG_LEVEL ?? 'info' }, pino.destination({ fd: 2, sync: true }));
}

/** The logger type. */
export type Logger = ReturnType<typeof createLogger>;
