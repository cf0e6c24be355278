import { getEventListeners, getMaxListeners } from 'node:events';
import { followSignal } from '../../src/signals.js';

const listeners = (signal: AbortSignal) => getEventListeners(signal, 'abort').length;

describe('followSignal', () => {
  it('puts one listener on a signal however many controllers follow it', () => {
    const parent = new AbortController();
    const unlinks = Array.from({ length: 50 }, () => followSignal(parent.signal, new AbortController()));
    expect(listeners(parent.signal)).toBe(1);
    for (const unlink of unlinks) unlink();
    expect(listeners(parent.signal)).toBe(0);
  });

  it('aborts every follower when the signal aborts', () => {
    const parent = new AbortController();
    const children = Array.from({ length: 20 }, () => new AbortController());
    for (const child of children) followSignal(parent.signal, child);
    parent.abort();
    expect(children.every((c) => c.signal.aborted)).toBe(true);
    expect(listeners(parent.signal)).toBe(0);
  });

  it('no longer aborts a follower that unlinked, and unlinking twice is harmless', () => {
    const parent = new AbortController();
    const gone = new AbortController();
    const stays = new AbortController();
    const unlink = followSignal(parent.signal, gone);
    followSignal(parent.signal, stays);
    unlink();
    unlink();
    expect(listeners(parent.signal)).toBe(1);
    parent.abort();
    expect(gone.signal.aborted).toBe(false);
    expect(stays.signal.aborted).toBe(true);
  });

  it('lets followers unlink each other while the signal aborts them', () => {
    const parent = new AbortController();
    const first = new AbortController();
    const second = new AbortController();
    const unlinkSecond = followSignal(parent.signal, second);
    followSignal(parent.signal, first);
    first.signal.addEventListener('abort', unlinkSecond);
    parent.abort();
    expect(first.signal.aborted).toBe(true);
    expect(second.signal.aborted).toBe(true);
  });

  it('aborts a follower of an already aborted signal at once, adding no listener', () => {
    const child = new AbortController();
    const signal = AbortSignal.abort();
    followSignal(signal, child)();
    expect(child.signal.aborted).toBe(true);
    expect(listeners(signal)).toBe(0);
  });

  it('starts over with a fresh listener after the last follower left', () => {
    const parent = new AbortController();
    followSignal(parent.signal, new AbortController())();
    const child = new AbortController();
    followSignal(parent.signal, child);
    expect(listeners(parent.signal)).toBe(1);
    parent.abort();
    expect(child.signal.aborted).toBe(true);
  });

  it("never changes the followed signal's listener limit", () => {
    const parent = new AbortController();
    const before = getMaxListeners(parent.signal);
    const add = jest.spyOn(parent.signal, 'addEventListener');
    const unlinks = Array.from({ length: 11 }, () => followSignal(parent.signal, new AbortController()));
    expect(add).toHaveBeenCalledTimes(1);
    expect(getMaxListeners(parent.signal)).toBe(before);
    for (const unlink of unlinks) unlink();
  });
});
