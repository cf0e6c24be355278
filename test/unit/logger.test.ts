import { Writable } from 'node:stream';
import pino from 'pino';
import winston from 'winston';
import { resolveConfig } from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';
import { type Logger, Log, debugLevel, debugVariableValue, resolveLog, stderrLogger } from '../../src/logger.js';

describe('ETCD_CLIENT_DEBUG', () => {
  it('is off when unset, empty, 0 or false', () => {
    for (const value of [undefined, '', '0', 'false', ' FALSE ']) expect(debugLevel(value)).toBeUndefined();
  });

  it('takes zap level names as Go does (dpanic, panic and fatal read as error)', () => {
    expect(debugLevel('debug')).toBe('debug');
    expect(debugLevel('INFO')).toBe('info');
    expect(debugLevel('warn')).toBe('warn');
    expect(debugLevel('error')).toBe('error');
    expect(debugLevel('fatal')).toBe('error');
  });

  it('means everything for any other value, 1 and true included', () => {
    expect(debugLevel('1')).toBe('debug');
    expect(debugLevel('true')).toBe('debug');
    expect(debugLevel('yes')).toBe('debug');
  });

  it('reads as unset where the environment refuses access (Deno without --allow-env)', () => {
    const refusing = new Proxy({}, {
      get() {
        throw new Error('Requires env access to "ETCD_CLIENT_DEBUG", run again with the --allow-env flag');
      },
    });
    const replaced = jest.replaceProperty(process, 'env', refusing as NodeJS.ProcessEnv);
    try {
      expect(debugVariableValue()).toBeUndefined();
    } finally {
      replaced.restore();
    }
  });

  it('gives no log at all by default, so log?.x(...) evaluates nothing; the variable turns it on', () => {
    expect(resolveLog(undefined, undefined)).toBeUndefined();
    const saved = process.env.ETCD_CLIENT_DEBUG;
    try {
      delete process.env.ETCD_CLIENT_DEBUG;
      expect(resolveConfig({ endpoints: '127.0.0.1:2379' }).log).toBeUndefined();
      process.env.ETCD_CLIENT_DEBUG = '1';
      expect(resolveConfig({ endpoints: '127.0.0.1:2379' }).log).toBeInstanceOf(Log);
    } finally {
      if (saved === undefined) delete process.env.ETCD_CLIENT_DEBUG;
      else process.env.ETCD_CLIENT_DEBUG = saved;
    }
  });
});

describe('Log', () => {
  it('calls console-shaped loggers as (message, fields)', () => {
    const calls: unknown[][] = [];
    const logger: Logger = {
      debug: (...args: unknown[]) => calls.push(['debug', ...args]),
      info: (...args: unknown[]) => calls.push(['info', ...args]),
      warn: (...args: unknown[]) => calls.push(['warn', ...args]),
      error: (...args: unknown[]) => calls.push(['error', ...args]),
    };
    const log = new Log(logger);
    log.info('connected', { endpoint: 'a:1' });
    log.debug('plain');
    expect(calls).toEqual([
      ['info', 'connected', { endpoint: 'a:1' }],
      ['debug', 'plain'],
    ]);
  });

  it('writes fields as JSON keys with pino (called as (fields, message))', () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logger = pino({ level: 'debug' }, stream);
    new Log(logger).info('connected', { endpoint: '127.0.0.1:2379', attempt: 2 });
    new Log(logger.child({ component: 'etcd' })).debug('retrying', { method: '/etcdserverpb.KV/Range' });
    return new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      expect(lines).toHaveLength(2);
      expect(JSON.parse(lines[0])).toMatchObject({ level: 30, msg: 'connected', endpoint: '127.0.0.1:2379', attempt: 2 });
      expect(JSON.parse(lines[1])).toMatchObject({ level: 20, msg: 'retrying', component: 'etcd', method: '/etcdserverpb.KV/Range' });
    });
  });

  it('writes fields as meta with winston', async () => {
    const infos: Record<string, unknown>[] = [];
    const stream = new Writable({
      objectMode: true,
      write(info: Record<string, unknown>, _encoding, done) {
        infos.push(info);
        done();
      },
    });
    const logger = winston.createLogger({ level: 'debug', transports: [new winston.transports.Stream({ stream })] });
    new Log(logger).warn('keep-alive lost', { lease: '7' });
    for (let i = 0; i < 10 && infos.length === 0; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(infos).toHaveLength(1);
    expect(infos[0]).toMatchObject({ level: 'warn', message: 'keep-alive lost', lease: '7' });
    logger.close();
  });

  it('drops lines below the least level and survives a logger that throws', () => {
    const seen: string[] = [];
    const throwing: Logger = {
      debug: (m: string) => seen.push(m),
      info: () => {
        throw new Error('broken logger');
      },
      warn: (m: string) => seen.push(m),
      error: (m: string) => seen.push(m),
    };
    const log = new Log(throwing, 'warn');
    log.debug('hidden');
    expect(() => log.info('hidden too')).not.toThrow();
    log.warn('shown');
    expect(seen).toEqual(['shown']);
    expect(() => new Log(throwing).info('throws inside')).not.toThrow();
  });

  it('writes one stderr line per entry when only the environment asks', () => {
    const written: string[] = [];
    const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    try {
      const log = resolveLog(undefined, 'info');
      expect(log).toBeDefined();
      log?.debug('not at info');
      log?.info('disconnected', { endpoint: '127.0.0.1:2379', cause: 'read ECONNRESET', skipped: undefined });
      stderrLogger.error('x');
    } finally {
      spy.mockRestore();
    }
    expect(written).toHaveLength(2);
    expect(written[0]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z nice-etcd INFO disconnected endpoint=127\.0\.0\.1:2379 cause="read ECONNRESET"\n$/);
    expect(written[1]).toMatch(/ nice-etcd ERROR x\n$/);
  });
});

describe('config: logger and middleware', () => {
  it('takes console, pino and winston as logger', () => {
    for (const logger of [console, pino({ level: 'silent' }), winston.createLogger({ silent: true })]) {
      expect(resolveConfig({ endpoints: '127.0.0.1:2379', logger }).log).toBeInstanceOf(Log);
    }
  });

  it('refuses a logger without the four methods, and middleware that is not a list of functions', () => {
    expect(() => resolveConfig({ endpoints: '127.0.0.1:2379', logger: { debug() {} } as unknown as Logger })).toThrow(ConfigError);
    expect(() => resolveConfig({ endpoints: '127.0.0.1:2379', logger: { debug() {} } as unknown as Logger })).toThrow(/missing: info, warn, error/);
    expect(() => resolveConfig({ endpoints: '127.0.0.1:2379', middleware: 'prometheus' as never })).toThrow(/list of nice-grpc client middleware/);
    expect(resolveConfig({ endpoints: '127.0.0.1:2379' }).middleware).toEqual([]);
  });
});
