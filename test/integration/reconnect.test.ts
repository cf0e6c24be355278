import { setTimeout as sleep } from 'node:timers/promises';
import { Client, UnavailableError } from '../../src/index.js';
import { TcpProxy, useEtcd } from '../harness/index.js';

const suite = useEtcd();
let proxy: TcpProxy;

beforeAll(async () => {
  proxy = await TcpProxy.start(suite.etcd.endpoint);
});

afterAll(async () => {
  await proxy?.close();
});

it('reconnect() connects at once after an outage, without waiting out the backoff', async () => {
  await using client = new Client({ endpoints: [proxy.endpoint], retry: { maxAttempts: 1 }, maxReconnectBackoff: 60_000 });
  await client.put('reconnect/k', 'before');
  // The member's port closes: the connection and the next attempt fail; the endpoint backs off.
  proxy.refuse();
  await expect(client.get('reconnect/k')).rejects.toBeInstanceOf(UnavailableError);
  await expect(client.get('reconnect/k')).rejects.toBeInstanceOf(UnavailableError);
  proxy.restore();
  const accepted = proxy.accepted;
  // Nothing reconnects by itself while no call comes (and the backoff runs); reconnect() does, now.
  client.reconnect();
  while (proxy.accepted === accepted) await sleep(20);
  expect((await client.get('reconnect/k')).kvs[0].value.toString()).toBe('before');
});
