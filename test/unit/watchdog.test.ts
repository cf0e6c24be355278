import { StreamWatchdog } from '../../src/watchdog.js';

// The state machine alone, on jest's fake clock (it reads performance.now() and sets timeouts).
const quietMs = 1_000;
const answerMs = 500;

let probes: number;
let abandoned: number[];
let canProbe: boolean;
let watchdog: StreamWatchdog;

beforeEach(() => {
  jest.useFakeTimers();
  probes = 0;
  abandoned = [];
  canProbe = true;
  watchdog = new StreamWatchdog(
    { quietMs, answerMs },
    {
      probe: () => {
        if (canProbe) probes++;
        return canProbe;
      },
      abandon: (waited) => abandoned.push(waited),
    },
  );
});

afterEach(() => {
  watchdog.stop();
  expect(jest.getTimerCount()).toBe(0);
  jest.useRealTimers();
});

describe('a stream watchdog', () => {
  it('probes once the stream has been silent for quietMs, not before', () => {
    watchdog.start();
    jest.advanceTimersByTime(quietMs - 1);
    expect(probes).toBe(0);
    jest.advanceTimersByTime(1);
    expect(probes).toBe(1);
  });

  it('counts silence from the last response', () => {
    watchdog.start();
    jest.advanceTimersByTime(quietMs - 100);
    watchdog.heard();
    jest.advanceTimersByTime(quietMs - 1);
    expect(probes).toBe(0);
    jest.advanceTimersByTime(1);
    expect(probes).toBe(1);
  });

  it('keeps a stream whose probes are answered, probing again after each quiet interval', () => {
    watchdog.start();
    for (let i = 1; i <= 3; i++) {
      jest.advanceTimersByTime(quietMs);
      expect(probes).toBe(i);
      // Answered before the first repeat (at answerMs / 5).
      jest.advanceTimersByTime(answerMs / 10);
      watchdog.heard();
    }
    jest.advanceTimersByTime(answerMs);
    expect(abandoned).toEqual([]);
    expect(watchdog.running).toBe(true);
  });

  it('probes again every fifth of answerMs while unanswered, then gives the stream up once', () => {
    watchdog.start();
    jest.advanceTimersByTime(quietMs);
    expect(probes).toBe(1);
    jest.advanceTimersByTime(answerMs - 1);
    expect(probes).toBe(5);
    expect(abandoned).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(abandoned).toEqual([answerMs]);
    expect(watchdog.running).toBe(false);
    jest.advanceTimersByTime(10 * quietMs);
    expect(abandoned).toHaveLength(1);
  });

  it('gives up a stream that leaves an expected answer (a create) unanswered, without probing', () => {
    watchdog.start();
    jest.advanceTimersByTime(100);
    watchdog.expect();
    jest.advanceTimersByTime(answerMs - 1);
    expect(abandoned).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(abandoned).toEqual([answerMs]);
    expect(probes).toBe(0);
  });

  it('forgets an expected answer once any response arrives', () => {
    watchdog.start();
    watchdog.expect();
    jest.advanceTimersByTime(answerMs - 1);
    watchdog.heard();
    jest.advanceTimersByTime(quietMs - 1);
    expect(abandoned).toEqual([]);
    expect(probes).toBe(0);
  });

  it('tries again a quiet interval later when the probe cannot be sent', () => {
    canProbe = false;
    watchdog.start();
    jest.advanceTimersByTime(quietMs + answerMs);
    expect(abandoned).toEqual([]);
    canProbe = true;
    // The failed attempt was at quietMs: the next is at 2 * quietMs.
    jest.advanceTimersByTime(quietMs - answerMs - 1);
    expect(probes).toBe(0);
    jest.advanceTimersByTime(1);
    expect(probes).toBe(1);
  });

  it('does nothing after stop(), and starts afresh with start()', () => {
    watchdog.start();
    watchdog.expect();
    watchdog.stop();
    expect(jest.getTimerCount()).toBe(0);
    watchdog.start();
    jest.advanceTimersByTime(answerMs);
    expect(abandoned).toEqual([]);
  });
});
