import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { wireDefinitions } from '../../src/codec.js';
import { newerFields } from '../../src/newer-fields.js';
import { HashKVResponse, SnapshotResponse, StatusResponse } from '../../src/proto.js';

// etcd 3.6 adds fields to Status, HashKV and Snapshot answers that our 3.5 protos do not know.
// Here a 3.6 server's bytes are made by appending those fields (etcd's field numbers) to a
// message our protos encode, and read back through the definitions the client decodes with.

const { methods } = wireDefinitions.maintenance;

/** `message`'s bytes followed by the extra fields `extend` writes. */
function withExtra(bytes: Uint8Array, extend: (w: BinaryWriter) => void): Uint8Array {
  const writer = new BinaryWriter();
  extend(writer);
  return Buffer.concat([bytes, writer.finish()]);
}

it('reads storageVersion, dbSizeQuota and downgradeInfo from a 3.6 StatusResponse', () => {
  const base = StatusResponse.encode(StatusResponse.fromPartial({ version: '3.6.5', dbSize: 4096n, isLearner: false })).finish();
  const bytes = withExtra(base, (w) => {
    w.uint32((11 << 3) | 2).string('3.6.0');
    w.uint32(12 << 3).int64(2n ** 33n);
    w.uint32((13 << 3) | 2).fork().uint32(8).bool(true).uint32((2 << 3) | 2).string('3.5.0').join();
  });
  const decoded = methods.status.responseType.decode(bytes);
  expect(decoded.version).toBe('3.6.5');
  expect(decoded.dbSize).toBe(4096n);
  expect(newerFields(decoded)).toEqual({ storageVersion: '3.6.0', dbSizeQuota: 2n ** 33n, downgradeInfo: { enabled: true, targetVersion: '3.5.0' } });
});

it('reads hashRevision from a 3.6 HashKVResponse and version from a 3.6 SnapshotResponse', () => {
  const hash = withExtra(HashKVResponse.encode(HashKVResponse.fromPartial({ hash: 7, compactRevision: 3n })).finish(), (w) => w.uint32(4 << 3).int64(42n));
  const decodedHash = methods.hashKV.responseType.decode(hash);
  expect(decodedHash.hash).toBe(7);
  expect(newerFields(decodedHash)).toEqual({ hashRevision: 42n });
  const chunk = withExtra(SnapshotResponse.encode(SnapshotResponse.fromPartial({ blob: Buffer.from('db'), remainingBytes: 0n })).finish(), (w) =>
    w.uint32((4 << 3) | 2).string('3.6.5'),
  );
  const decodedChunk = methods.snapshot.responseType.decode(chunk);
  expect(Buffer.from(decodedChunk.blob).toString()).toBe('db');
  expect(newerFields(decodedChunk)).toEqual({ version: '3.6.5' });
});

it('leaves them out for a 3.5 server, whose answers do not have them', () => {
  const status = methods.status.responseType.decode(StatusResponse.encode(StatusResponse.fromPartial({ version: '3.5.16' })).finish());
  expect(newerFields(status)).toEqual({});
  expect(Object.keys(status)).not.toContain('storageVersion');
});
