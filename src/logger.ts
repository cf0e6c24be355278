/** Values of a log line's fields: what happened, and where (endpoint, method, lease, revision). */
export type LogFields = Record<string, string | number | boolean | undefined>;

/** A logging method as console, pino and winston have one: a message, then its fields. */
export type LogMethod = (message: string, fields?: LogFields) => unknown;

/**
 * Where the client's log lines go (config `logger`): `console`, a pino or a winston logger, or
 * any object with these four methods. The client calls them as `debug(message, fields)`, as
 * console and winston take it; a pino logger (recognized by its `Symbol.for('pino.serializers')`
 * property) is called pino's way, `debug(fields, message)`, so the fields become JSON keys.
 * The logger's own level decides what is written.
 */
export interface Logger {
  /** Retries of unary calls, broken and reopened streams, `reconnect()`, failed token fetches' causes. */
  debug: LogMethod;
  /** Connections made, lost and failed; endpoint lists; watch resumes; token refreshes. */
  info: LogMethod;
  /** A lease whose keep-alive was lost or that expired; a token that could not be fetched. */
  warn: LogMethod;
  /** Not used by the client today; part of the shape so that any console-like object fits. */
  error: LogMethod;
}

/** Log levels, least severe first. @internal */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const levels: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/** The environment variable Go's clientv3 reads to turn its logging on; this client reads it too. @internal */
export const debugVariable = 'ETCD_CLIENT_DEBUG';

/**
 * `ETCD_CLIENT_DEBUG` as the environment has it; undefined when unset or unreadable (Deno
 * without `--allow-env` throws on access: a client must not fail for want of a debug switch).
 * @internal
 */
export function debugVariableValue(): string | undefined {
  try {
    return process.env[debugVariable];
  } catch {
    return undefined;
  }
}

/**
 * The least severe level that `ETCD_CLIENT_DEBUG` asks for, or undefined for none. Unset, empty,
 * `0` and `false` turn logging off; a level name as zap (Go's logger) spells it (`debug`,
 * `info`, `warn`, `error`, and `dpanic`, `panic`, `fatal`, read as `error`) sets the least
 * level written; any other value (`1`, `true`) means everything, `debug` up.
 * @internal
 */
export function debugLevel(value: string | undefined): LogLevel | undefined {
  const v = value?.trim().toLowerCase();
  if (v === undefined || v === '' || v === '0' || v === 'false') return undefined;
  if (v === 'warning') return 'warn';
  if (v === 'dpanic' || v === 'panic' || v === 'fatal') return 'error';
  return (levels as readonly string[]).includes(v) ? (v as LogLevel) : 'debug';
}

const pinoSerializers = Symbol.for('pino.serializers');

/**
 * The client's side of logging: the configured logger (or stderr when only `ETCD_CLIENT_DEBUG`
 * asks), called in the shape it takes. A client without logging has none of these at all
 * (`config.log` is undefined), so every `log?.debug(...)` evaluates nothing.
 * @internal
 */
export class Log {
  readonly #target: Logger;
  readonly #pino: boolean;
  readonly #least: number;

  constructor(target: Logger, least: LogLevel = 'debug') {
    this.#target = target;
    this.#pino = typeof target === 'object' && target !== null && pinoSerializers in target;
    this.#least = levels.indexOf(least);
  }

  debug(message: string, fields?: LogFields): void {
    this.#write('debug', message, fields);
  }

  info(message: string, fields?: LogFields): void {
    this.#write('info', message, fields);
  }

  warn(message: string, fields?: LogFields): void {
    this.#write('warn', message, fields);
  }

  error(message: string, fields?: LogFields): void {
    this.#write('error', message, fields);
  }

  #write(level: LogLevel, message: string, fields: LogFields | undefined): void {
    if (levels.indexOf(level) < this.#least) return;
    const method = this.#target[level] as (...args: unknown[]) => unknown;
    try {
      if (this.#pino) method.call(this.#target, fields ?? {}, message);
      else if (fields === undefined) method.call(this.#target, message);
      else method.call(this.#target, message, fields);
    } catch {
      // A logger that throws must not break the client's connection handling.
    }
  }
}

/**
 * The logger `ETCD_CLIENT_DEBUG` gets when no `logger` is configured: one line per entry on
 * stderr, `<ISO time> nice-etcd <LEVEL> <message> key=value ...` (Go's client logs to stderr
 * too). @internal
 */
export const stderrLogger: Logger = {
  debug: (message, fields) => writeLine('DEBUG', message, fields),
  info: (message, fields) => writeLine('INFO', message, fields),
  warn: (message, fields) => writeLine('WARN', message, fields),
  error: (message, fields) => writeLine('ERROR', message, fields),
};

function writeLine(level: string, message: string, fields: LogFields | undefined): void {
  let line = `${new Date().toISOString()} nice-etcd ${level} ${message}`;
  if (fields) {
    for (const [key, value] of Object.entries(fields)) {
      if (value === undefined) continue;
      const text = String(value);
      line += ` ${key}=${/^[^\s"=]+$/.test(text) ? text : JSON.stringify(text)}`;
    }
  }
  process.stderr.write(`${line}\n`);
}

/**
 * The log of a client with `logger` (used as it is: its own level filters) and the
 * environment's `ETCD_CLIENT_DEBUG` (stderr, when no logger is given); undefined when neither
 * asks for logging, which is the default.
 * @internal
 */
export function resolveLog(logger: Logger | undefined, env: string | undefined): Log | undefined {
  if (logger !== undefined) return new Log(logger);
  const least = debugLevel(env);
  return least === undefined ? undefined : new Log(stderrLogger, least);
}
