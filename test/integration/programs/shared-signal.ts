// Run as a program of its own (by client.test.ts), so that Node's process warnings are the
// real ones: 50 concurrent calls share one request-scoped signal, as a web handler's would.
import '../../harness/transport.js';
import { Client } from '../../../src/index.js';

async function main(endpoint: string): Promise<void> {
  const client = new Client({ endpoints: [endpoint] });
  try {
    const request = new AbortController();
    await Promise.all(Array.from({ length: 50 }, (_, i) => client.get(`shared-signal/${i}`, { signal: request.signal })));
  } finally {
    await client.close();
  }
}

main(process.argv[2]).catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
