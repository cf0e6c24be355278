import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from '../../src/index.js';
import { watchStreamsOf } from '../../src/watch.js';
import { type EtcdCluster, TcpProxy, startCluster, streamCarrier, openStreams } from '../harness/index.js';
jest.setTimeout(120_000);
let cluster: EtcdCluster; let proxies: TcpProxy[];
beforeAll(async () => { cluster = await startCluster(3); proxies = await Promise.all(cluster.members.map((m) => TcpProxy.start(m.endpoint))); });
afterAll(async () => { await Promise.all(proxies.map((p) => p.close())); await cluster.destroy(); });
// eslint-disable-next-line
const rr = require('@grpc/grpc-js/build/src/load-balancer-round-robin.js');
it('debug', async () => {
  const Picker = Object.values(rr).find((v: any) => typeof v === 'function' && v.name === 'RoundRobinPicker') as any;
  console.log('picker class found', !!Picker, Object.keys(rr));

  await using client = new Client({ endpoints: proxies.map((p) => p.endpoint), keepAliveTime: 0 });
  const w = client.watch('x');
  await w.created;
  const ids = [];
  for (let i = 0; i < 6; i++) ids.push(String((await client.get('x')).header.memberId % 1000n));
  console.log('RR members', ids.join(' '));
  const index = await streamCarrier(cluster, 'Watch');
  proxies[index].blackhole();
  const t0 = performance.now();
  for (let i = 0; i < 20; i++) {
    await sleep(1000);
    const open = await Promise.all(cluster.members.map((m) => openStreams(m, 'Watch')));
    console.log(((performance.now() - t0) / 1000).toFixed(1), 'carrier', index, 'open', open.join(','), 'opened', watchStreamsOf(client).streamsOpened, 'abandoned', watchStreamsOf(client).streamsAbandoned);
  }
  proxies[index].restore();
});
