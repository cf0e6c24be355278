import { createHash } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import type { CallOptions } from './call-options.js';
import type { Connection, Services } from './connection.js';
import { toUint64 } from './cluster.js';
import { type Int64, toBuffer, toInt64 } from './encoding.js';
import { DataLossError, InvalidArgumentError } from './errors.js';
import { type ResponseHeader, decodeHeader } from './kv.js';
import { AlarmRequest_AlarmAction, AlarmType, DowngradeRequest_DowngradeAction } from './proto.js';
import { type DowngradeInfo, type NewerHashKVFields, type NewerSnapshotFields, type NewerStatusFields, newerFields } from './newer-fields.js';

/** An alarm a member raised: `nospace` (quota reached: writes fail until disarmed) or `corrupt`. */
export interface Alarm {
  /** The member that raised it. */
  memberId: bigint;
  /** Which alarm. */
  alarm: 'nospace' | 'corrupt';
}

/** A member's status, from the member itself. */
export interface MemberStatus {
  /** The cluster, member and revision that answered. */
  header: ResponseHeader;
  /** The server's version, e.g. `3.5.16`. */
  version: string;
  /** Size of the backend database in bytes, and the part of it in use. */
  dbSize: bigint;
  /** Bytes of the backend database in use (the rest is free pages, reclaimed by defragment). */
  dbSizeInUse: bigint;
  /** Member id of the leader (0 when there is none). */
  leader: bigint;
  /** The member's raft index (committed entries). */
  raftIndex: bigint;
  /** The member's raft term. */
  raftTerm: bigint;
  /** The raft index the member has applied. */
  raftAppliedIndex: bigint;
  /** Alarm descriptions, when any is raised. */
  errors: string[];
  /** True when the member is a learner (it receives the log but does not vote). */
  isLearner: boolean;
  /** etcd 3.6+: the version of the database file (may lag behind the cluster version). */
  storageVersion?: string;
  /** etcd 3.6+: the backend quota in bytes (`--quota-backend-bytes`). */
  dbSizeQuota?: bigint;
  /** etcd 3.6+: whether a downgrade is in progress, and to which version. */
  downgradeInfo?: DowngradeInfo;
}

/** What `downgrade` does: check that the cluster can go to the version, start, or cancel it. */
export type DowngradeAction = 'validate' | 'enable' | 'cancel';

/** Options of `saveSnapshot`: the call options, and a progress hook. */
export interface SaveSnapshotOptions extends CallOptions {
  /**
   * Called after each chunk is written, with the bytes received so far (etcd's trailing 32-byte
   * checksum included). Must not throw. The CLI's `snapshot save` draws its progress line with it.
   */
  onProgress?: (bytes: number) => void;
}

const alarmNames = new Map<AlarmType, Alarm['alarm']>([
  [AlarmType.NOSPACE, 'nospace'],
  [AlarmType.CORRUPT, 'corrupt'],
]);
const alarmTypes: Record<Alarm['alarm'], AlarmType> = { nospace: AlarmType.NOSPACE, corrupt: AlarmType.CORRUPT };
const downgradeActions: Record<DowngradeAction, DowngradeRequest_DowngradeAction> = {
  validate: DowngradeRequest_DowngradeAction.VALIDATE,
  enable: DowngradeRequest_DowngradeAction.ENABLE,
  cancel: DowngradeRequest_DowngradeAction.CANCEL,
};

/** A snapshot that is not what etcd sends: no trailing sha256, or one that does not match. */
export class SnapshotIntegrityError extends DataLossError {}

/** Server maintenance: `client.maintenance`. Calls given an endpoint reach exactly that member. */
export class MaintenanceClient {
  /** @internal */
  constructor(
    private readonly connection: Connection,
    private readonly callOptions: (options: CallOptions) => CallOptions,
  ) {}

  /** The status of `endpoint` (default: whichever member the client reaches). */
  async status(endpoint?: string, options: CallOptions = {}): Promise<MemberStatus> {
    const r = await this.on(endpoint, (s) => s.maintenance.status({}, this.callOptions(options)));
    return {
      header: decodeHeader(r.header),
      version: r.version,
      dbSize: r.dbSize,
      dbSizeInUse: r.dbSizeInUse,
      leader: r.leader,
      raftIndex: r.raftIndex,
      raftTerm: r.raftTerm,
      raftAppliedIndex: r.raftAppliedIndex,
      errors: r.errors,
      isLearner: r.isLearner,
      ...newerFields<NewerStatusFields>(r),
    };
  }

  /** Every raised alarm, on every member. */
  async alarms(options: CallOptions = {}): Promise<{ header: ResponseHeader; alarms: Alarm[] }> {
    const r = await this.connection.services.maintenance.alarm(
      { action: AlarmRequest_AlarmAction.GET, memberID: 0n, alarm: AlarmType.NONE },
      this.callOptions(options),
    );
    return { header: decodeHeader(r.header), alarms: r.alarms.map((a) => ({ memberId: a.memberID, alarm: alarmNames.get(a.alarm) ?? 'corrupt' })) };
  }

  /** Disarms one alarm, or every raised alarm when none is given (as Go does). */
  async disarm(alarm?: Alarm, options: CallOptions = {}): Promise<{ header: ResponseHeader; alarms: Alarm[] }> {
    const targets = alarm ? [alarm] : (await this.alarms(options)).alarms;
    let header: ResponseHeader | undefined;
    for (const a of targets) {
      const type = alarmTypes[a.alarm];
      if (type === undefined) throw new InvalidArgumentError(`alarm must be 'nospace' or 'corrupt', got ${String(a.alarm)}`);
      const r = await this.connection.services.maintenance.alarm(
        { action: AlarmRequest_AlarmAction.DEACTIVATE, memberID: toUint64(a.memberId), alarm: type },
        this.callOptions(options),
      );
      header = decodeHeader(r.header);
    }
    return { header: header ?? (await this.alarms(options)).header, alarms: targets };
  }

  /** Defragments `endpoint`'s backend, returning free space to the file system (it blocks that member meanwhile). */
  async defragment(endpoint: string, options: CallOptions = {}): Promise<ResponseHeader> {
    if (typeof endpoint !== 'string') throw new InvalidArgumentError('defragment needs the endpoint of the member to defragment');
    const r = await this.on(endpoint, (s) => s.maintenance.defragment({}, this.callOptions(options)));
    return decodeHeader(r.header);
  }

  /** The hash of `endpoint`'s whole backend (for comparing members; slow on big stores). */
  async hash(endpoint?: string, options: CallOptions = {}): Promise<{ header: ResponseHeader; hash: number }> {
    const r = await this.on(endpoint, (s) => s.maintenance.hash({}, this.callOptions(options)));
    return { header: decodeHeader(r.header), hash: r.hash };
  }

  /**
   * The hash of `endpoint`'s keys and values up to `revision` (0: the latest); equal on healthy
   * members. A 3.6+ server also says up to which revision it hashed (`hashRevision`).
   */
  async hashKV(
    endpoint: string,
    revision: Int64 = 0,
    options: CallOptions = {},
  ): Promise<{ header: ResponseHeader; hash: number; compactRevision: bigint; hashRevision?: bigint }> {
    const rev = toInt64(revision, 'hashKV revision');
    const r = await this.on(endpoint, (s) => s.maintenance.hashKV({ revision: rev }, this.callOptions(options)));
    return { header: decodeHeader(r.header), hash: r.hash, compactRevision: r.compactRevision, ...newerFields<NewerHashKVFields>(r) };
  }

  /**
   * Transfers leadership to the member `targetId`. The request must reach the leader: given no
   * endpoint, the client finds the leader's client URL itself.
   */
  async moveLeader(targetId: Int64, options: { endpoint?: string } & CallOptions = {}): Promise<ResponseHeader> {
    const target = toUint64(targetId);
    let endpoint = options.endpoint;
    if (endpoint === undefined) {
      const { leader } = await this.status(undefined, options);
      const { members } = await this.connection.services.cluster.memberList({ linearizable: true }, this.callOptions(options));
      endpoint = members.find((m) => m.ID === leader)?.clientURLs[0];
    }
    const r = await this.on(endpoint, (s) => s.maintenance.moveLeader({ targetID: target }, this.callOptions(options)));
    return decodeHeader(r.header);
  }

  /** Validates, starts or cancels a cluster downgrade to `version` (e.g. `'3.5'`; etcd 3.6+). */
  async downgrade(action: DowngradeAction, version: string, options: CallOptions = {}): Promise<{ header: ResponseHeader; version: string }> {
    const a = downgradeActions[action];
    if (a === undefined) throw new InvalidArgumentError(`downgrade action must be validate, enable or cancel, got ${String(action)}`);
    const r = await this.connection.services.maintenance.downgrade({ action: a, version }, this.callOptions(options));
    return { header: decodeHeader(r.header), version: r.version };
  }

  /**
   * The backend database as a stream of chunks; etcd appends the sha256 of the database as the
   * last 32 bytes. No default timeout: bound it with `signal` or `timeout`.
   */
  async *snapshot(options: CallOptions = {}): AsyncGenerator<Buffer, void, undefined> {
    yield* this.snapshotChunks(options, () => {});
  }

  /**
   * Saves a snapshot to `path` safely: it streams into `path.part`, checks etcd's trailing
   * sha256, fsyncs, then renames, so `path` never holds a partial or corrupt snapshot.
   * Resolves with the size in bytes, and with a 3.6+ server, the `version` of the server that
   * made it. The file is what `etcdutl snapshot restore` expects. `onProgress` hears of every
   * chunk written.
   */
  async saveSnapshot(path: string, options: SaveSnapshotOptions = {}): Promise<{ size: number; version?: string }> {
    let version: string | undefined;
    const { onProgress, ...callOptions } = options;
    const saved = await writeSnapshot(path, this.snapshotChunks(callOptions, (v) => (version = v)), onProgress);
    return version === undefined ? saved : { ...saved, version };
  }

  /** The snapshot's bytes; `onVersion` gets the server version a 3.6+ server sends with them. */
  private async *snapshotChunks(options: CallOptions, onVersion: (version: string) => void): AsyncGenerator<Buffer, void, undefined> {
    for await (const chunk of this.connection.services.maintenance.snapshot({}, this.callOptions(options))) {
      const { version } = newerFields<NewerSnapshotFields>(chunk);
      if (version) onVersion(version);
      if (chunk.blob.length > 0) yield toBuffer(chunk.blob);
    }
  }

  /** Runs `fn` on a connection to `endpoint` (closed afterwards), or on the shared one. */
  private async on<T>(endpoint: string | undefined, fn: (services: Services) => Promise<T>): Promise<T> {
    if (endpoint === undefined) return fn(this.connection.services);
    const dialed = this.connection.dial(endpoint);
    try {
      return await fn(dialed.services);
    } finally {
      dialed.close();
    }
  }
}


/**
 * Writes snapshot chunks to `path` via `path.part`: checks the trailing sha256 (etcd appends the
 * database's sha256 as the last 32 bytes, and the database is whole 512-byte pages), fsyncs,
 * renames. On any failure the partial file is removed and `path` is untouched.
 * @internal
 */
export async function writeSnapshot(path: string, chunks: AsyncIterable<Buffer>, onProgress?: (bytes: number) => void): Promise<{ size: number }> {
  const part = `${path}.part`;
  const file = await open(part, 'w');
  let size = 0;
  const hash = createHash('sha256');
  // The last 32 bytes seen so far: the candidate checksum, not part of the hashed database.
  let tail = Buffer.alloc(0);
  try {
    for await (const chunk of chunks) {
      await file.write(chunk);
      size += chunk.length;
      onProgress?.(size);
      const joined = Buffer.concat([tail, chunk]);
      const cut = Math.max(0, joined.length - 32);
      hash.update(joined.subarray(0, cut));
      tail = joined.subarray(cut);
    }
    if (size % 512 !== 32 || tail.length !== 32) {
      throw new SnapshotIntegrityError(`snapshot of ${size} bytes has no trailing sha256 (etcd sends database pages plus 32 bytes)`);
    }
    if (!hash.digest().equals(tail)) throw new SnapshotIntegrityError('snapshot sha256 does not match its contents');
    await file.sync();
    await file.close();
    await rename(part, path);
    return { size };
  } catch (error) {
    await file.close().catch(() => undefined);
    await rm(part, { force: true });
    throw error;
  }
}
