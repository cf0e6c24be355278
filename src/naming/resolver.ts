import { type ChannelOptions, experimental, status as Status } from '@grpc/grpc-js';
import { InvalidArgumentError } from '../errors.js';
import type { Namespaceable } from '../namespace/kv.js';
import { type ServiceEndpoint, EndpointManager } from './endpoint-manager.js';

/** Options of `registerEtcdResolver`. */
export interface EtcdResolverOptions {
  /** The URI scheme to resolve; default `etcd` (targets `etcd:///<service>`). One client per scheme. */
  scheme?: string;
}

/** The target name in `etcd:///<name>` (or `etcd:<name>`), as Go's resolver reads it. */
function targetName(target: experimental.GrpcUri): string {
  return target.path.replace(/^\/+/, '');
}

/** The gRPC endpoint of a registered address: `host:port`, or gRPC's default port 443 without one. */
function grpcEndpoint(endpoint: ServiceEndpoint): experimental.Endpoint | undefined {
  const hostPort = experimental.splitHostPort(endpoint.addr);
  if (!hostPort || hostPort.host === '') return undefined;
  return { addresses: [{ host: hostPort.host, port: hostPort.port ?? 443 }] };
}

/**
 * Resolves one target from etcd, as Go's naming/resolver does: it watches the target's
 * endpoints and reports the whole current set to grpc-js on every change.
 */
class EtcdResolver implements experimental.Resolver {
  private readonly manager: EndpointManager;
  private readonly endpoints = new Map<string, ServiceEndpoint>();
  private watching: AbortController | undefined;

  constructor(
    client: Namespaceable,
    target: experimental.GrpcUri,
    private readonly listener: experimental.ResolverListener,
  ) {
    this.manager = new EndpointManager(client, targetName(target));
  }

  updateResolution(): void {
    // While the watch runs, every change is reported as it happens: nothing to refresh.
    if (this.watching) return;
    const controller = new AbortController();
    this.watching = controller;
    void this.run(controller);
  }

  destroy(): void {
    this.watching?.abort();
    this.watching = undefined;
  }

  private async run(controller: AbortController): Promise<void> {
    try {
      this.endpoints.clear();
      for await (const updates of this.manager.watch({ signal: controller.signal })) {
        for (const update of updates) {
          if (update.op === 'add') this.endpoints.set(update.key, update.endpoint);
          else this.endpoints.delete(update.key);
        }
        this.report();
      }
    } catch (error) {
      if (controller.signal.aborted) return;
      // grpc-js retries with backoff through updateResolution().
      const details = `etcd resolver: cannot watch the endpoints of ${this.manager.target}: ${error instanceof Error ? error.message : String(error)}`;
      this.listener(experimental.statusOrFromError({ code: Status.UNAVAILABLE, details }), {}, null, '');
    } finally {
      if (this.watching === controller) this.watching = undefined;
    }
  }

  private report(): void {
    const endpoints = [...this.endpoints.values()].flatMap((e) => grpcEndpoint(e) ?? []);
    if (endpoints.length > 0) {
      this.listener(experimental.statusOrFromValue(endpoints), {}, null, '');
    } else {
      // The empty list makes the balancer drop its connections (round_robin then fails calls);
      // the error fails the calls that pick_first would otherwise queue forever, as DNS does
      // for a name without addresses. pick_first keeps a connection it has already picked.
      const details = `no endpoints registered in etcd under ${this.manager.target}/`;
      this.listener(experimental.statusOrFromValue([]), {}, null, details);
      this.listener(experimental.statusOrFromError({ code: Status.UNAVAILABLE, details }), {}, null, details);
    }
  }
}

/**
 * Lets grpc-js (and so nice-grpc) channels dial services registered in etcd: a target
 * `etcd:///<service>` resolves to the endpoints under `<service>/` (as Go's
 * `naming/resolver.NewBuilder(client)`), and the channel follows them as they are added and
 * deleted. grpc-js keeps one resolver per scheme for the whole process: registering the same
 * scheme again replaces the client it uses.
 */
export function registerEtcdResolver(client: Namespaceable, options: EtcdResolverOptions = {}): void {
  const scheme = options.scheme ?? 'etcd';
  if (!/^[A-Za-z][A-Za-z0-9+.-]*$/.test(scheme)) throw new InvalidArgumentError(`etcd resolver: ${JSON.stringify(scheme)} is not a URI scheme`);
  experimental.registerResolver(
    scheme,
    class extends EtcdResolver {
      constructor(target: experimental.GrpcUri, listener: experimental.ResolverListener, _options: ChannelOptions) {
        super(client, target, listener);
      }

      static getDefaultAuthority(target: experimental.GrpcUri): string {
        // The calls' :authority must be a host name, and a service name may hold '/' or '_':
        // 'services/orders' becomes 'services.orders' (set grpc.default_authority to choose).
        return targetName(target).replace(/[^A-Za-z0-9.-]+/g, '.');
      }
    },
  );
}
