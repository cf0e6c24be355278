import { type Int64 } from '../encoding.js';
import { InvalidArgumentError } from '../errors.js';
import type { KeyValue } from '../kv.js';
import type { Namespaceable } from '../namespace/kv.js';
import { op, type Op } from '../op.js';
import { goJson } from './go-json.js';

/** A service endpoint as Go's `naming/endpoints` stores it (Go's `endpoints.Endpoint`). */
export interface ServiceEndpoint {
  /** The address clients connect to, `host:port`. */
  addr: string;
  /** Anything JSON can hold, for the clients' load balancing (Go's `Metadata interface{}`); null when absent. */
  metadata?: unknown;
}

/** One change to a target's endpoints: what `update` applies and `watch` reports (Go's `endpoints.Update`). */
export type EndpointUpdate =
  | {
      /** Register (or replace) the endpoint under `key` (Go's `endpoints.Add`). */
      op: 'add';
      /** The endpoint's key, `<target>/<anything>`. */
      key: string;
      /** The address and metadata stored under `key`, as Go's `endpoints.Endpoint`. */
      endpoint: ServiceEndpoint;
      /** Attach the key to this lease (to `update` and `addEndpoint`), so the endpoint goes when its server does. */
      lease?: Int64;
    }
  | {
      /** Remove the endpoint under `key` (Go's `endpoints.Delete`). */
      op: 'delete';
      /** The endpoint's key, `<target>/<anything>`. */
      key: string;
    };

/** Options of `EndpointManager.addEndpoint`. */
export interface AddEndpointOptions {
  /** Attach the key to this lease, so the endpoint goes when its server stops keeping the lease alive. */
  lease?: Int64;
}

/** Options of `EndpointManager.watch`. */
export interface WatchEndpointsOptions {
  /** Aborting it ends the iteration. */
  signal?: AbortSignal;
}

// Go's internal.Update: the value of every endpoint key is this JSON object.
const addOperation = 0;

/** The JSON value Go's Manager writes for `endpoint`: `{"Op":0,"Addr":...,"Metadata":...}`. @internal */
export function encodeEndpoint(endpoint: ServiceEndpoint): string {
  // A struct: fields in declaration order (only maps have their keys sorted).
  return `{"Op":${addOperation},"Addr":${goJson(endpoint.addr)},"Metadata":${goJson(endpoint.metadata ?? null)}}`;
}

/** The endpoint in a stored value, or undefined where Go's json.Unmarshal would fail (Go skips those keys). @internal */
export function decodeEndpoint(value: Buffer): ServiceEndpoint | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch {
    return undefined;
  }
  if (parsed === null) return { addr: '', metadata: null };
  if (typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
  // Go matches field names exactly first, then without regard to case.
  const field = (name: string): unknown => {
    const fields = parsed as Record<string, unknown>;
    if (name in fields) return fields[name];
    const key = Object.keys(fields).find((k) => k.toLowerCase() === name.toLowerCase());
    return key === undefined ? undefined : fields[key];
  };
  const addr = field('Addr') ?? '';
  if (typeof addr !== 'string') return undefined;
  return { addr, metadata: field('Metadata') ?? null };
}

/**
 * The endpoints of one target (a service name) in etcd, with the key layout and values of
 * Go's `endpoints.Manager`: each endpoint is a key `<target>/<anything>` holding
 * `{"Op":0,"Addr":"host:port","Metadata":...}`, so Go programs and nice-etcd register and
 * discover each other's services.
 */
export class EndpointManager {
  private readonly prefix: string;

  /** The endpoints of `target` (Go's endpoints.NewManager). */
  constructor(
    private readonly client: Namespaceable,
    /** The service name: its endpoints are the keys under `<target>/`. */
    readonly target: string,
  ) {
    if (typeof target !== 'string' || target === '') throw new InvalidArgumentError('endpoints: the target must be a non-empty string');
    this.prefix = `${target}/`;
  }

  /** Adds and deletes endpoints in one transaction (Go's Update); keys must start with `<target>/`. */
  async update(updates: EndpointUpdate[]): Promise<void> {
    const ops: Op[] = updates.map((update) => {
      if (typeof update.key !== 'string' || !update.key.startsWith(this.prefix)) {
        throw new InvalidArgumentError(`endpoints: endpoint key should be prefixed with '${this.prefix}' got: '${String(update.key)}'`);
      }
      switch (update.op) {
        case 'add':
          if (typeof update.endpoint?.addr !== 'string') throw new InvalidArgumentError(`endpoints: the endpoint of ${update.key} needs an addr string`);
          return op.put(update.key, encodeEndpoint(update.endpoint), { lease: update.lease });
        case 'delete':
          return op.delete(update.key);
        default:
          throw new InvalidArgumentError('endpoints: bad update op');
      }
    });
    await this.client.txn().then(...ops).commit();
  }

  /** Registers `endpoint` under `key` (`<target>/<anything>`), Go's AddEndpoint. */
  addEndpoint(key: string, endpoint: ServiceEndpoint, options: AddEndpointOptions = {}): Promise<void> {
    return this.update([{ op: 'add', key, endpoint, lease: options.lease }]);
  }

  /** Removes the endpoint under `key`, Go's DeleteEndpoint. */
  deleteEndpoint(key: string): Promise<void> {
    return this.update([{ op: 'delete', key }]);
  }

  /** Every endpoint of the target by key (Go's List); keys whose value is not an endpoint are left out. */
  async list(): Promise<Map<string, ServiceEndpoint>> {
    const { kvs } = await this.client.get(this.prefix, { prefix: true, serializable: true });
    return new Map(this.added(kvs).map((update) => [update.key, update.endpoint]));
  }

  /**
   * The target's endpoints, then every change to them (Go's NewWatchChannel): the first batch
   * adds every endpoint registered now (it is empty when there is none, where Go sends
   * nothing), each later batch holds the changes of one revision's watch response.
   */
  async *watch(options: WatchEndpointsOptions = {}): AsyncGenerator<EndpointUpdate[], void, undefined> {
    const { signal } = options;
    const { kvs, header } = await this.client.get(this.prefix, { prefix: true, serializable: true, signal });
    yield this.added(kvs);
    const watcher = this.client.watch(this.prefix, { prefix: true, startRevision: header.revision + 1n, signal });
    try {
      for await (const batch of watcher) {
        const updates: EndpointUpdate[] = [];
        for (const event of batch.events) {
          if (event.type === 'delete') updates.push({ op: 'delete', key: event.kv.key.toString() });
          else updates.push(...this.added([event.kv]));
        }
        if (updates.length > 0) yield updates;
      }
    } finally {
      await watcher.cancel();
    }
  }

  private added(kvs: KeyValue[]): Array<EndpointUpdate & { op: 'add' }> {
    return kvs.flatMap((kv) => {
      const endpoint = decodeEndpoint(kv.value);
      return endpoint ? [{ op: 'add' as const, key: kv.key.toString(), endpoint }] : [];
    });
  }
}
