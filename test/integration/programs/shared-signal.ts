// Run as a program of its own (by client.test.ts), so that Node's process warnings are the
// real ones: one request-scoped signal is shared by 50 concurrent calls, 20 watchers and 20
// keep-alives, as a web handler's would be.
import '../../harness/transport.js';
import { Client } from '../../../src/index.js';

async function main(endpoint: string): Promise<void> {
  const client = new Client({ endpoints: [endpoint] });
  try {
    const request = new AbortController();
    const { signal } = request;
    await Promise.all(Array.from({ length: 50 }, (_, i) => client.get(`shared-signal/${i}`, { signal })));
    const watchers = Array.from({ length: 20 }, (_, i) => client.watch(`shared-signal/${i}`, { signal }));
    await Promise.all(watchers.map((w) => w.created));
    const lease = await client.lease.grant(30, { signal });
    const keepAlives = Array.from({ length: 20 }, () => client.lease.keepAlive(lease.id, { signal }));
    request.abort();
    await Promise.all([...watchers.map((w) => w.ended), ...keepAlives.map((k) => k.ended)]);
    await lease.revoke();
  } finally {
    await client.close();
  }
}

main(process.argv[2]).catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
