import { setTimeout as sleep } from 'node:timers/promises';
import { Client, DeadlineExceededError, KeyNotFoundError, UnavailableError } from '../../src/index.js';
import { freePort, useProxiedEtcd } from '../harness/index.js';

// What a failed write tells about its outcome (README: Retries and outcomes).
const suite = useProxiedEtcd();

afterEach(() => suite.proxy.restore());

it('a write whose answer never comes times out with outcomeUnknown, and was in fact applied', async () => {
  await using client = new Client({ endpoints: [suite.proxy.endpoint] });
  await client.get('outcome/warm-up');
  suite.proxy.blackhole('responses');
  const error = await client.put('outcome/applied', 'v', { timeout: 1_000 }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(DeadlineExceededError);
  expect((error as DeadlineExceededError).outcomeUnknown).toBe(true);
  // The request reached etcd: the "failed" write is there. This is why it must not be repeated blindly.
  expect((await suite.client.get('outcome/applied')).kvs[0]?.value.toString()).toBe('v');
});

it('a write whose connection drops under it fails with outcomeUnknown', async () => {
  await using client = new Client({ endpoints: [suite.proxy.endpoint] });
  await client.get('outcome/warm-up');
  suite.proxy.blackhole();
  const pending = client.put('outcome/dropped', 'v', { timeout: 20_000 }).catch((e: unknown) => e);
  await sleep(200);
  suite.proxy.drop();
  const error = await pending;
  expect(error).toBeInstanceOf(UnavailableError);
  expect((error as UnavailableError).outcomeUnknown).toBe(true);
});

it('a write that never left the client is not unknown (and is retried while time allows)', async () => {
  const dead = await freePort();
  await using client = new Client({ endpoints: [`127.0.0.1:${dead}`], retry: { maxAttempts: 2 } });
  const error = await client.put('outcome/unsent', 'v').catch((e: unknown) => e);
  expect(error).toBeInstanceOf(UnavailableError);
  expect((error as UnavailableError).details).toMatch(/No connection established/);
  expect((error as UnavailableError).outcomeUnknown).toBe(false);
});

it('a write etcd refused is not unknown', async () => {
  const error = await suite.client.put('outcome/missing', 'v', { ignoreLease: true }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(KeyNotFoundError);
  expect((error as KeyNotFoundError).outcomeUnknown).toBe(false);
});

it('a read that times out is not a write: outcomeUnknown is false', async () => {
  await using client = new Client({ endpoints: [suite.proxy.endpoint] });
  await client.get('outcome/warm-up');
  suite.proxy.blackhole();
  const error = await client.get('outcome/read', { timeout: 500 }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(DeadlineExceededError);
  expect((error as DeadlineExceededError).outcomeUnknown).toBe(false);
});
