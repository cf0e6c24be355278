// A service registry on leases, and a client that discovers services by watching. Each instance
// registers `examples/services/<service>/<instance>` = its address, attached to a lease it keeps
// alive: deregistering is revoking the lease, and an instance that dies disappears on its own
// once its lease expires. A discovering client lists the service's prefix and then watches it
// from the list's revision + 1, so it sees every instance come and go, in order.
//
// Runs against ETCD_ENDPOINTS (default 127.0.0.1:2379), e.g. `npx tsx examples/service-registry.ts`
// (`bash scripts/examples` starts a throwaway etcd and runs every example). Exits non-zero if the
// discovering client's view did not follow the instances' registrations, departures and crash.
import { strict as assert } from 'node:assert';
import { Client, type KeepAlive, type Lease } from 'nice-etcd';

const services = 'examples/services/';

/** One registered instance: its key lives as long as its lease is kept alive. */
class Registration {
  private readonly lease: Lease;
  private readonly keepAlive: KeepAlive;

  private constructor(lease: Lease) {
    this.lease = lease;
    this.keepAlive = lease.keepAlive();
  }

  /** Registers `instance` of `service` at `address`; the lease expires `ttl` s after the last keep-alive. */
  static async register(client: Client, service: string, instance: string, address: string, ttl: number): Promise<Registration> {
    const lease = await client.lease.grant(ttl);
    await client.put(`${services}${service}/${instance}`, address, { lease: lease.id });
    return new Registration(lease);
  }

  /** Leaves the registry at once (a clean shutdown). */
  async deregister(): Promise<void> {
    await this.lease.revoke();
  }

  /** Stops keeping the lease alive, as a crashed process does: the key goes when the lease expires. */
  crash(): void {
    this.keepAlive.stop();
  }
}

/** The live set of instances of one service, by instance name, with their addresses. */
class Discovery {
  readonly instances = new Map<string, string>();
  /** The sorted instance names after the first list and after each batch of watch events. */
  readonly history: string[][] = [];
  private readonly stop = new AbortController();
  private running: Promise<void> | undefined;
  private waiters: Array<() => void> = [];
  private readonly client: Client;
  private readonly prefix: string;

  constructor(client: Client, prefix: string) {
    this.client = client;
    this.prefix = prefix;
  }

  /**
   * Lists the service's instances, then follows them until `close()`. (A discoverer that runs for
   * long also re-lists when its watch ends with CompactedError, as config-service.ts does.)
   */
  async start(): Promise<void> {
    const { kvs, header } = await this.client.get(this.prefix, { prefix: true });
    for (const kv of kvs) this.instances.set(kv.key.toString().slice(this.prefix.length), kv.value.toString());
    this.record();
    const watcher = this.client.watch(this.prefix, { prefix: true, startRevision: header.revision + 1n, signal: this.stop.signal });
    this.running = (async () => {
      for await (const batch of watcher) {
        for (const event of batch.events) {
          const instance = event.kv.key.toString().slice(this.prefix.length);
          if (event.type === 'put') this.instances.set(instance, event.kv.value.toString());
          else this.instances.delete(instance);
        }
        this.record();
      }
    })();
  }

  /** Resolves once exactly `names` are registered. */
  async until(...names: string[]): Promise<void> {
    while ([...this.instances.keys()].sort().join() !== names.sort().join()) await new Promise<void>((resolve) => this.waiters.push(resolve));
    console.log(`discovery: ${names.length === 0 ? 'no instances' : names.map((n) => `${n} at ${this.instances.get(n)}`).join(', ')}`);
  }

  /** Stops following (idempotent). */
  async close(): Promise<void> {
    this.stop.abort();
    await this.running;
  }

  private record(): void {
    this.history.push([...this.instances.keys()].sort());
    for (const wake of this.waiters.splice(0)) wake();
  }
}

async function main(): Promise<void> {
  const endpoints = (process.env.ETCD_ENDPOINTS ?? '127.0.0.1:2379').split(',');
  // Instances and the discovering client would be separate processes; here each has its own client.
  await using instances = new Client({ endpoints, timeout: 5_000 });
  await using consumer = new Client({ endpoints, timeout: 5_000 });
  await instances.delete(services, { prefix: true });

  const discovery = new Discovery(consumer, `${services}api/`);
  await discovery.start();
  try {
    const a = await Registration.register(instances, 'api', 'a', '10.0.0.1:8080', 2);
    const b = await Registration.register(instances, 'api', 'b', '10.0.0.2:8080', 2);
    await discovery.until('a', 'b');

    await b.deregister();
    console.log('registry: b shut down cleanly');
    await discovery.until('a');

    a.crash();
    console.log('registry: a crashed; its key goes when its 2 s lease expires');
    await discovery.until();

    const c = await Registration.register(instances, 'api', 'c', '10.0.0.3:8080', 2);
    await discovery.until('c');
    await discovery.close();
    await c.deregister();
  } finally {
    await discovery.close();
  }

  // Each change arrived in order; a and b may have arrived in one watch batch or in two.
  const steps = discovery.history.map((names) => names.join('+') || '-');
  const expected = [['-', 'a', 'a+b', 'a', '-', 'c'], ['-', 'a+b', 'a', '-', 'c']];
  assert.ok(expected.some((history) => history.join() === steps.join()), `discovery saw ${steps.join(' -> ')}`);
  console.log('discovery: history', steps.join(' -> '));
  await instances.delete(services, { prefix: true });
  console.log('service-registry ok');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
