import {
  AuthDefinition,
  ClusterDefinition,
  ElectionDefinition,
  KVDefinition,
  LeaseDefinition,
  LockDefinition,
  MaintenanceDefinition,
  WatchDefinition,
} from './proto.js';

/** Every generated etcd service, by the name the client gives it (`client.cluster`, ...). @internal */
export const definitions = {
  kv: KVDefinition,
  watch: WatchDefinition,
  lease: LeaseDefinition,
  cluster: ClusterDefinition,
  maintenance: MaintenanceDefinition,
  auth: AuthDefinition,
  lock: LockDefinition,
  election: ElectionDefinition,
} as const;

/** The generated service definitions' types. @internal */
export type Definitions = typeof definitions;

/**
 * How a failed call may be repeated (Go's clientv3 retry.go):
 * - `repeatable`: repeating it cannot change the outcome, so it is retried on UNAVAILABLE;
 * - `unsentOnly`: retried only when the failure proves the request never left the client
 *   (no connection was established), so a write is never applied twice;
 * - `never`: streams, which have their own resume logic.
 */
export type RetryPolicy = 'repeatable' | 'unsentOnly' | 'never';

/** Whether requests, responses or both are streams; taken from the generated definition. */
export type CallKind = 'unary' | 'serverStream' | 'clientStream' | 'bidiStream';

/**
 * What a call does to the cluster: `read` changes nothing; `write` changes state, so a sent one
 * must not be replayed; `repeatableWrite` changes state, but a replay is harmless (revoking a
 * revoked lease fails with LeaseNotFound, a second granted lease nobody keeps alive expires).
 */
export type Effect = 'read' | 'write' | 'repeatableWrite';

/** How the client treats one RPC: the row of the policy table. */
export interface MethodPolicy<K extends CallKind = CallKind> {
  /** Unary or streaming, exactly as the generated definition says (the compiler checks it). */
  readonly kind: K;
  /** When a failed attempt is repeated; streams resume themselves and are never retried. */
  readonly retry: K extends 'unary' ? RetryPolicy : 'never';
  /** What the call changes, which bounds its retry policy (a `write` is never `repeatable`). */
  readonly effect: Effect;
  /** The answer waits on other clients (a lock's release, an election): it can take any time. */
  readonly waitsForOthers: K extends 'unary' ? boolean : false;
  /**
   * `default`: the client's `timeout` applies unless the call gives its own; `none`: no default
   * limit (streams, and calls that wait for other clients).
   */
  readonly timeout: K extends 'unary' ? 'default' | 'none' : 'none';
}

/** The call kind the generated definition of method M declares. @internal */
export type KindOf<M> = M extends { readonly requestStream: true }
  ? M extends { readonly responseStream: true }
    ? 'bidiStream'
    : 'clientStream'
  : M extends { readonly responseStream: true }
    ? 'serverStream'
    : 'unary';

/** One row per RPC of every generated service: a new RPC fails to compile until it has one. @internal */
export type PolicyTable = {
  readonly [S in keyof Definitions]: {
    readonly [M in keyof Definitions[S]['methods']]: MethodPolicy<KindOf<Definitions[S]['methods'][M]>>;
  };
};

const read = { kind: 'unary', retry: 'repeatable', effect: 'read', waitsForOthers: false, timeout: 'default' } as const;
const write = { kind: 'unary', retry: 'unsentOnly', effect: 'write', waitsForOthers: false, timeout: 'default' } as const;
const repeatableWrite = { ...read, effect: 'repeatableWrite' } as const;
/** Blocks until another client lets go (a lock's holder, an election's leader); never replayed. */
const waitForOthers = { ...write, waitsForOthers: true, timeout: 'none' } as const;

/** How the client treats every etcd RPC: retry, default timeout, stream kind. */
export const methodPolicies = {
  kv: {
    range: read,
    // A Txn may write, so it is a write even when it only reads (as in Go).
    put: write,
    deleteRange: write,
    txn: write,
    compact: write,
  },
  // Resumed by the watcher itself, from the last revision it delivered.
  watch: { watch: { kind: 'bidiStream', retry: 'never', effect: 'read', waitsForOthers: false, timeout: 'none' } },
  lease: {
    // Grant with ID 0 may grant a second lease when repeated, but Go repeats it: a lease nobody
    // keeps alive expires on its own. Revoke is idempotent (the repeat finds no lease).
    leaseGrant: repeatableWrite,
    leaseRevoke: repeatableWrite,
    leaseKeepAlive: { kind: 'bidiStream', retry: 'never', effect: 'repeatableWrite', waitsForOthers: false, timeout: 'none' },
    leaseTimeToLive: read,
    leaseLeases: read,
  },
  cluster: {
    memberAdd: write,
    memberRemove: write,
    memberUpdate: write,
    memberList: read,
    memberPromote: write,
  },
  maintenance: {
    // Activating or deactivating an alarm twice leaves the same alarm list (Go repeats it).
    alarm: repeatableWrite,
    status: read,
    defragment: write,
    hash: read,
    hashKV: read,
    snapshot: { kind: 'serverStream', retry: 'never', effect: 'read', waitsForOthers: false, timeout: 'none' },
    // Moving the leader to the member that already leads is a no-op (Go repeats it).
    moveLeader: repeatableWrite,
    downgrade: write,
  },
  auth: {
    authEnable: write,
    authDisable: write,
    authStatus: read,
    // A raft write in etcd; Go never replays it once sent.
    authenticate: write,
    userAdd: write,
    userGet: read,
    userList: read,
    userDelete: write,
    userChangePassword: write,
    userGrantRole: write,
    userRevokeRole: write,
    roleAdd: write,
    roleGet: read,
    roleList: read,
    roleDelete: write,
    roleGrantPermission: write,
    roleRevokePermission: write,
  },
  // Server-side recipes: Lock waits until acquired and Campaign until elected, each on a lease;
  // repeating a sent one could take the lock twice.
  lock: {
    lock: waitForOthers,
    unlock: write,
  },
  election: {
    campaign: waitForOthers,
    proclaim: write,
    leader: read,
    observe: { kind: 'serverStream', retry: 'never', effect: 'read', waitsForOthers: false, timeout: 'none' },
    resign: write,
  },
} as const satisfies PolicyTable;

const byPath: ReadonlyMap<string, MethodPolicy> = new Map(
  Object.entries(definitions).flatMap(([service, definition]) =>
    Object.entries(definition.methods).map(([key, method]): [string, MethodPolicy] => [
      `/${definition.fullName}/${method.name}`,
      (methodPolicies as unknown as Record<string, Record<string, MethodPolicy>>)[service][key],
    ]),
  ),
);

/** The policy of an RPC by its gRPC path (`/etcdserverpb.KV/Range`); undefined for an unknown path. */
export function methodPolicy(path: string): MethodPolicy | undefined {
  return byPath.get(path);
}
