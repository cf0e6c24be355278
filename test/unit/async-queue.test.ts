import { AsyncQueue } from '../../src/async-queue.js';

async function drain<T>(queue: AsyncQueue<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of queue) out.push(item);
  return out;
}

describe('AsyncQueue', () => {
  it('hands items to its consumer in order, and ends after close once they are taken', async () => {
    const queue = new AsyncQueue<number>();
    const taken = drain(queue);
    queue.push(1);
    queue.push(2);
    await Promise.resolve();
    queue.push(3);
    queue.close();
    expect(await taken).toEqual([1, 2, 3]);
    expect(queue.taken).toBe(3);
    expect(queue.push(4)).toBe(false);
  });

  it('throws the error it was closed with after the queued items', async () => {
    const queue = new AsyncQueue<string>();
    queue.push('a');
    queue.close(new Error('broken'));
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const item of queue) seen.push(item);
      })(),
    ).rejects.toThrow('broken');
    expect(seen).toEqual(['a']);
  });

  it('with a limit keeps only the newest items', async () => {
    const queue = new AsyncQueue<number>(3);
    for (let i = 0; i < 10; i++) queue.push(i);
    queue.close();
    expect(await drain(queue)).toEqual([7, 8, 9]);
  });

  it('with a limit stays bounded when nobody reads it', () => {
    const queue = new AsyncQueue<number>(16);
    for (let i = 0; i < 100_000; i++) queue.push(i);
    expect(queue.size).toBe(16);
    expect(queue.slots).toBeLessThanOrEqual(3 * 16);
    expect(queue.shift()).toBe(100_000 - 16);
  });

  it('frees the slots of taken items while it is read', () => {
    const queue = new AsyncQueue<number>();
    let sum = 0;
    for (let i = 0; i < 100_000; i++) {
      queue.push(i);
      sum += queue.shift() as number;
    }
    expect(sum).toBe((100_000 * 99_999) / 2);
    expect(queue.slots).toBeLessThan(2 * 1024 + 2);
  });
});
