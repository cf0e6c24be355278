import { Compare_CompareResult, Compare_CompareTarget } from './proto.js';
import type { Compare } from './wire.js';
import { InvalidArgumentError } from './errors.js';
import { type Bytes, type Int64, toBytes, toInt64 } from './encoding.js';
import { encodeRange } from './op.js';

/** The comparison operators etcd supports. */
export type CompareOperator = '=' | '!=' | '>' | '<';

/** A compare may cover one key or every key of a range; each key in it must satisfy it. */
export interface CompareOptions {
  /** Every key that starts with the key. */
  prefix?: boolean;
  /** Every key in [key, end). */
  end?: Bytes;
}

/** A condition of a transaction (`txn().if(...)`), as a value. */
export type Condition = Compare;

const operators: Record<CompareOperator, Compare_CompareResult> = {
  '=': Compare_CompareResult.EQUAL,
  '!=': Compare_CompareResult.NOT_EQUAL,
  '>': Compare_CompareResult.GREATER,
  '<': Compare_CompareResult.LESS,
};

const targets = {
  version: Compare_CompareTarget.VERSION,
  createRevision: Compare_CompareTarget.CREATE,
  modRevision: Compare_CompareTarget.MOD,
  value: Compare_CompareTarget.VALUE,
  lease: Compare_CompareTarget.LEASE,
} as const;

function build(what: string, key: Bytes, operator: CompareOperator, target: NonNullable<Compare['targetUnion']>, options: CompareOptions): Condition {
  const result = operators[operator];
  if (result === undefined) {
    throw new InvalidArgumentError(`compare.${what}: operator must be =, !=, > or <, got ${String(operator)}`);
  }
  const range = encodeRange(`compare.${what}`, key, options);
  return { result, target: targets[target.$case], key: range.key, rangeEnd: range.rangeEnd, targetUnion: target };
}

/**
 * Compare builders for `txn().if(...)`. A key that does not exist has version, create
 * revision, mod revision and lease 0, so `compare.version(k, '=', 0)` means "k is missing".
 */
export const compare = {
  /** The key's value compared with `value` byte by byte. */
  value(key: Bytes, operator: CompareOperator, value: Bytes, options: CompareOptions = {}): Condition {
    return build('value', key, operator, { $case: 'value', value: toBytes(value, 'compare value') }, options);
  },
  /** The key's version (number of writes since it was created; 0 when missing). */
  version(key: Bytes, operator: CompareOperator, version: Int64, options: CompareOptions = {}): Condition {
    return build('version', key, operator, { $case: 'version', value: toInt64(version, 'compare version') }, options);
  },
  /** The revision at which the key was created (0 when missing). */
  createRevision(key: Bytes, operator: CompareOperator, revision: Int64, options: CompareOptions = {}): Condition {
    return build('createRevision', key, operator, { $case: 'createRevision', value: toInt64(revision, 'compare createRevision') }, options);
  },
  /** The revision of the key's last write (0 when missing). */
  modRevision(key: Bytes, operator: CompareOperator, revision: Int64, options: CompareOptions = {}): Condition {
    return build('modRevision', key, operator, { $case: 'modRevision', value: toInt64(revision, 'compare modRevision') }, options);
  },
  /** The id of the lease the key is attached to (0 when none or missing). */
  lease(key: Bytes, operator: CompareOperator, lease: Int64, options: CompareOptions = {}): Condition {
    return build('lease', key, operator, { $case: 'lease', value: toInt64(lease, 'compare lease') }, options);
  },
  /** The key exists (Go's clientv3util.KeyExists: version > 0). */
  exists(key: Bytes): Condition {
    return compare.version(key, '>', 0);
  },
  /** The key does not exist (Go's clientv3util.KeyMissing: version = 0). */
  missing(key: Bytes): Condition {
    return compare.version(key, '=', 0);
  },
};
