/**
 * Structured logs: one JSON object per line on stdout, which Function Compute ships to SLS as is.
 * Records carry ids, keys, codes and timings; credentials never enter a record (the handler never
 * passes them, and `redact` masks any field whose name says it holds one, as a second guard).
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LogRecord {
  readonly level: LogLevel;
  readonly msg: string;
  readonly [field: string]: unknown;
}

export type LogSink = (record: LogRecord) => void;

const SECRET_FIELD = /secret|token|password|credential|authorization|signature/i;

function redact(record: LogRecord): LogRecord {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record)) out[k] = SECRET_FIELD.test(k) ? '[redacted]' : v;
  return out as LogRecord;
}

/** The default sink: a JSON line with a timestamp. */
export const jsonLineSink: LogSink = (record) => {
  console.log(JSON.stringify({ time: new Date().toISOString(), ...record }));
};

export type Logger = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => void;

export function createLogger(sink: LogSink, base: Record<string, unknown>): Logger {
  return (level, msg, fields = {}) => sink(redact({ ...base, ...fields, level, msg }));
}
