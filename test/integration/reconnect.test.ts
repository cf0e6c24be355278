import { setTimeout as sleep } from 'node:timers/promises';
import { Client, UnavailableError } from '../../src/index.js';
import { useProxiedEtcd } from '../harness/index.js';

const suite = useProxiedEtcd();

it('reconnect() connects at once after an outage, without waiting out the backoff', async () => {
  await using client = new Client({ endpoints: [suite.proxy.endpoint], retry: { maxAttempts: 1 }, maxReconnectBackoff: 60_000 });
  await client.put('reconnect/k', 'before');
  // The member's port closes: the connection and the next attempt fail; the endpoint backs off.
  suite.proxy.refuse();
  await expect(client.get('reconnect/k')).rejects.toBeInstanceOf(UnavailableError);
  await expect(client.get('reconnect/k')).rejects.toBeInstanceOf(UnavailableError);
  suite.proxy.restore();
  const accepted = suite.proxy.accepted;
  // Nothing reconnects by itself while no call comes (and the backoff runs); reconnect() does, now.
  client.reconnect();
  while (suite.proxy.accepted === accepted) await sleep(20);
  expect((await client.get('reconnect/k')).kvs[0].value.toString()).toBe('before');
});
