import { type ClientEvents, Observer } from '../../src/events.js';
import { UnavailableError } from '../../src/errors.js';
import { Log, type Logger } from '../../src/logger.js';

function recordingLog(): { log: Log; lines: Array<[string, string, Record<string, unknown> | undefined]> } {
  const lines: Array<[string, string, Record<string, unknown> | undefined]> = [];
  const method = (level: string) => (message: string, fields?: Record<string, unknown>) => lines.push([level, message, fields]);
  const logger: Logger = { debug: method('debug'), info: method('info'), warn: method('warn'), error: method('error') };
  return { log: new Log(logger), lines };
}

describe('Observer', () => {
  const where = { endpoint: '127.0.0.1:2379', address: '127.0.0.1:2379' };

  it('turns connection state changes into connected, disconnected and connectFailed', () => {
    const observer = new Observer(undefined);
    const seen: Array<[keyof ClientEvents, unknown]> = [];
    for (const name of ['connected', 'disconnected', 'connectFailed'] as const) observer.on(name, (event) => seen.push([name, event]));
    observer.connection(where, 'idle', 'connecting', undefined);
    observer.connection(where, 'connecting', 'ready', undefined);
    observer.connection(where, 'ready', 'idle', 'read ECONNRESET');
    observer.connection(where, 'idle', 'connecting', undefined);
    observer.connection(where, 'connecting', 'failed', 'connect ECONNREFUSED');
    expect(seen).toEqual([
      ['connected', where],
      ['disconnected', { ...where, cause: 'read ECONNRESET' }],
      ['connectFailed', { ...where, cause: 'connect ECONNREFUSED' }],
    ]);
  });

  it('calls a once listener once, removes listeners with off, and survives a listener that throws', () => {
    const observer = new Observer(undefined);
    const calls: string[] = [];
    const kept = () => calls.push('kept');
    const removed = () => calls.push('removed');
    observer.on('connected', () => calls.push('once'), true);
    observer.on('connected', kept);
    observer.on('connected', removed);
    observer.off('connected', removed);
    observer.on('connected', () => {
      throw new Error('listener bug');
    });
    observer.on('connected', () => calls.push('after the throw'));
    // The listener's exception is rethrown on a later tick: caught here instead of crashing jest.
    const later: Array<() => void> = [];
    const spy = jest.spyOn(global, 'setImmediate').mockImplementation(((fn: () => void) => later.push(fn)) as unknown as typeof setImmediate);
    try {
      observer.emit('connected', where);
      observer.emit('connected', where);
    } finally {
      spy.mockRestore();
    }
    expect(calls).toEqual(['once', 'kept', 'after the throw', 'kept', 'after the throw']);
    expect(later).toHaveLength(2);
    expect(later[0]).toThrow('listener bug');
  });

  it('reports a watch created a second time as resumed, from the revision it had reached', () => {
    const { log, lines } = recordingLog();
    const observer = new Observer(log);
    const resumed: Array<ClientEvents['watchResumed']> = [];
    observer.on('watchResumed', (event) => resumed.push(event));
    const watch = { request: { key: Buffer.from('jobs/'), rangeEnd: Buffer.from('jobs0') }, nextRevision: 0n };
    observer.watchCreated(watch);
    expect(resumed).toEqual([]);
    watch.nextRevision = 42n;
    observer.watchCreated(watch);
    expect(resumed).toEqual([{ key: Buffer.from('jobs/'), rangeEnd: Buffer.from('jobs0'), fromRevision: 42n }]);
    expect(lines).toContainEqual(['info', 'watch resumed', { key: 'jobs/', rangeEnd: 'jobs0', fromRevision: '42' }]);
  });

  it('reports an endpoint list only when it changed, with who changed it', () => {
    const observer = new Observer(undefined);
    const changes: Array<ClientEvents['endpointsChanged']> = [];
    observer.on('endpointsChanged', (event) => changes.push(event));
    observer.endpoints(['a:1'], [], undefined);
    observer.endpoints(['a:1'], ['a:1'], 'sync');
    observer.endpoints(['a:1', 'b:2'], ['a:1'], 'setEndpoints');
    expect(changes).toEqual([{ endpoints: ['a:1', 'b:2'], previous: ['a:1'], source: 'setEndpoints' }]);
  });

  it('logs a lost keep-alive at warn with the lease id and cause', () => {
    const { log, lines } = recordingLog();
    const observer = new Observer(log);
    const lost: Array<ClientEvents['keepAliveLost']> = [];
    observer.on('keepAliveLost', (event) => lost.push(event));
    const cause = new UnavailableError('no connection');
    observer.keepAliveLost(7n, 'lost', cause);
    expect(lost).toEqual([{ id: 7n, reason: 'lost', cause }]);
    expect(lines).toEqual([['warn', 'keep-alive lost: no answer within the lease TTL', { lease: '7', cause: 'no connection' }]]);
  });
});
