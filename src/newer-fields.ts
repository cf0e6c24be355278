import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';

// Fields that etcd 3.6 added to responses our 3.5.16 protos describe. The generated decoders
// skip fields they do not know; these wrappers read the ones users care about from the same
// bytes, so a 3.6+ server's answers carry them and a 3.4/3.5 server's leave them undefined.
// Field numbers are etcd's (api/etcdserverpb/rpc.proto, v3.6).

/** A 3.6+ member's downgrade state (StatusResponse.downgradeInfo). */
export interface DowngradeInfo {
  /** True while the cluster is being downgraded. */
  enabled: boolean;
  /** The version the cluster is being downgraded to. */
  targetVersion: string;
}

/** StatusResponse fields 11-13 (etcd 3.6+). @internal */
export interface NewerStatusFields {
  storageVersion?: string;
  dbSizeQuota?: bigint;
  downgradeInfo?: DowngradeInfo;
}

/** HashKVResponse field 4 (etcd 3.6+). @internal */
export interface NewerHashKVFields {
  hashRevision?: bigint;
}

/** SnapshotResponse field 4 (etcd 3.6+): the version of the server that made the snapshot. @internal */
export interface NewerSnapshotFields {
  version?: string;
}

/** The newer fields of a decoded response, under one property the generated types do not have. @internal */
export const newer = Symbol('newer etcd fields');

type Reader = (reader: BinaryReader, out: Record<string, unknown>, field: number, wireType: WireType) => boolean;

/** Reads the fields `read` knows from a message's bytes and skips the rest. */
function scan(bytes: Uint8Array, read: Reader): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (!read(reader, out, field, wireType)) reader.skip(wireType, field);
  }
  return out;
}

const readStatus: Reader = (reader, out, field, wireType) => {
  if (field === 11 && wireType === WireType.LengthDelimited) out.storageVersion = reader.string();
  else if (field === 12 && wireType === WireType.Varint) out.dbSizeQuota = BigInt(reader.int64());
  else if (field === 13 && wireType === WireType.LengthDelimited) {
    const info = scan(reader.bytes(), (r, o, f, w) => {
      if (f === 1 && w === WireType.Varint) o.enabled = r.bool();
      else if (f === 2 && w === WireType.LengthDelimited) o.targetVersion = r.string();
      else return false;
      return true;
    });
    out.downgradeInfo = { enabled: info.enabled ?? false, targetVersion: info.targetVersion ?? '' };
  } else return false;
  return true;
};

const readHashKV: Reader = (reader, out, field, wireType) => {
  if (field !== 4 || wireType !== WireType.Varint) return false;
  out.hashRevision = BigInt(reader.int64());
  return true;
};

const readSnapshot: Reader = (reader, out, field, wireType) => {
  if (field !== 4 || wireType !== WireType.LengthDelimited) return false;
  out.version = reader.string();
  return true;
};

const readers: Record<string, Reader> = { status: readStatus, hashKV: readHashKV, snapshot: readSnapshot };

/**
 * The Maintenance definition with `status`, `hashKV` and `snapshot` responses carrying their
 * etcd 3.6 fields under `[newer]` when the server sent them (nothing is read for the others).
 * @internal
 */
export function withNewerFields<D extends { methods: object }>(definition: D): D {
  const methods: Record<string, unknown> = { ...definition.methods };
  for (const [key, read] of Object.entries(readers)) {
    const method = methods[key] as { responseType: { decode(input: Uint8Array): object } };
    const { decode } = method.responseType;
    const responseType = {
      ...method.responseType,
      decode(input: Uint8Array) {
        const message = decode(input);
        const fields = scan(input, read);
        return Object.keys(fields).length > 0 ? Object.assign(message, { [newer]: fields }) : message;
      },
    };
    methods[key] = { ...method, responseType };
  }
  return { ...definition, methods };
}

/** The newer fields a response carries (an empty object for a 3.4/3.5 server's). @internal */
export function newerFields<T>(response: object): Partial<T> {
  return ((response as { [newer]?: T })[newer] ?? {}) as Partial<T>;
}
