import type {
  Alarm,
  DeleteResponse,
  GetResponse,
  KeepAliveResponse,
  LeaseTimeToLive,
  Member,
  MemberStatus,
  Permission,
  PutResponse,
  ResponseHeader,
  TxnResponse,
  WatchResponse,
} from '../../index.js';
import { hex, humanizeBytes } from '../format.js';
import { UsageError } from '../usage-error.js';

/** One endpoint's answer to `endpoint health`. */
export interface EndpointHealth {
  endpoint: string;
  health: boolean;
  /** Go's duration string of the check's round trip. */
  took: string;
  error: string;
}

/** One endpoint's answer to `endpoint status`. */
export interface EndpointStatus {
  endpoint: string;
  status: MemberStatus;
}

/** One endpoint's answer to `endpoint hashkv`. */
export interface EndpointHashKV {
  endpoint: string;
  header: ResponseHeader;
  hash: number;
  compactRevision: bigint;
}

/** A lease grant, as `lease grant` prints it. */
export interface LeaseGranted {
  header: ResponseHeader;
  id: bigint;
  ttl: number;
}

/** A member list, and the header of the call that returned it. */
export interface Members {
  header: ResponseHeader;
  members: Member[];
}

/** What every output format prints for each command's result (etcdctl's printer interface). */
export interface Printer {
  get(r: GetResponse): void;
  put(r: PutResponse): void;
  del(r: DeleteResponse): void;
  txn(r: TxnResponse): void;
  watch(r: WatchResponse): void;
  grant(r: LeaseGranted): void;
  revoke(id: bigint, header: ResponseHeader): void;
  keepAlive(r: KeepAliveResponse): void;
  timeToLive(r: LeaseTimeToLive, keys: boolean): void;
  leases(r: { header: ResponseHeader; ids: bigint[] }): void;
  memberAdd(r: Members & { member: Member }): void;
  memberRemove(id: bigint, r: Members): void;
  memberUpdate(id: bigint, r: Members): void;
  memberPromote(id: bigint, r: Members): void;
  memberList(r: Members): void;
  endpointHealth(list: EndpointHealth[]): void;
  endpointStatus(list: EndpointStatus[]): void;
  endpointHashKV(list: EndpointHashKV[]): void;
  moveLeader(leader: bigint, target: bigint, header: ResponseHeader): void;
  alarm(r: { header: ResponseHeader; alarms: Alarm[] }): void;
  roleAdd(role: string, header: ResponseHeader): void;
  roleGet(role: string, r: { header: ResponseHeader; permissions: Permission[] }): void;
  roleDelete(role: string, header: ResponseHeader): void;
  roleList(r: { header: ResponseHeader; roles: string[] }): void;
  roleGrantPermission(role: string, header: ResponseHeader): void;
  roleRevokePermission(role: string, key: string, end: string, header: ResponseHeader): void;
  userAdd(user: string, header: ResponseHeader): void;
  userGet(user: string, r: { header: ResponseHeader; roles: string[] }): void;
  userList(r: { header: ResponseHeader; users: string[] }): void;
  userChangePassword(header: ResponseHeader): void;
  userGrantRole(user: string, role: string, header: ResponseHeader): void;
  userRevokeRole(user: string, role: string, header: ResponseHeader): void;
  userDelete(user: string, header: ResponseHeader): void;
  authStatus(r: { header: ResponseHeader; enabled: boolean; authRevision: bigint }): void;
}

/** The output formats of `-w`. */
export type OutputFormat = 'simple' | 'json' | 'table' | 'fields';

/** Writes a printer's text to standard output. */
export function out(text: string): void {
  process.stdout.write(text);
}

/** A printer that supports nothing: the formats that print only some results extend it. */
export class UnsupportedPrinter implements Printer {
  constructor(private readonly format: string) {}
  private fail(): never {
    throw new UsageError(`${this.format} not supported as output format`);
  }
  get(..._: unknown[]): void { this.fail(); }
  put(..._: unknown[]): void { this.fail(); }
  del(..._: unknown[]): void { this.fail(); }
  txn(..._: unknown[]): void { this.fail(); }
  watch(..._: unknown[]): void { this.fail(); }
  grant(..._: unknown[]): void { this.fail(); }
  revoke(..._: unknown[]): void { this.fail(); }
  keepAlive(..._: unknown[]): void { this.fail(); }
  timeToLive(..._: unknown[]): void { this.fail(); }
  leases(..._: unknown[]): void { this.fail(); }
  memberAdd(..._: unknown[]): void { this.fail(); }
  memberRemove(..._: unknown[]): void { this.fail(); }
  memberUpdate(..._: unknown[]): void { this.fail(); }
  memberPromote(..._: unknown[]): void { this.fail(); }
  memberList(..._: unknown[]): void { this.fail(); }
  endpointHealth(..._: unknown[]): void { this.fail(); }
  endpointStatus(..._: unknown[]): void { this.fail(); }
  endpointHashKV(..._: unknown[]): void { this.fail(); }
  moveLeader(..._: unknown[]): void { this.fail(); }
  alarm(..._: unknown[]): void { this.fail(); }
  roleAdd(..._: unknown[]): void { this.fail(); }
  roleGet(..._: unknown[]): void { this.fail(); }
  roleDelete(..._: unknown[]): void { this.fail(); }
  roleList(..._: unknown[]): void { this.fail(); }
  roleGrantPermission(..._: unknown[]): void { this.fail(); }
  roleRevokePermission(..._: unknown[]): void { this.fail(); }
  userAdd(..._: unknown[]): void { this.fail(); }
  userGet(..._: unknown[]): void { this.fail(); }
  userList(..._: unknown[]): void { this.fail(); }
  userChangePassword(..._: unknown[]): void { this.fail(); }
  userGrantRole(..._: unknown[]): void { this.fail(); }
  userRevokeRole(..._: unknown[]): void { this.fail(); }
  userDelete(..._: unknown[]): void { this.fail(); }
  authStatus(..._: unknown[]): void { this.fail(); }
}

/** The columns and rows of `member list` (simple and table formats). */
export function memberTable(members: Member[]): { header: string[]; rows: string[][] } {
  return {
    header: ['ID', 'Status', 'Name', 'Peer Addrs', 'Client Addrs', 'Is Learner'],
    rows: members.map((m) => [hex(m.id), m.name ? 'started' : 'unstarted', m.name, m.peerUrls.join(','), m.clientUrls.join(','), String(m.isLearner)]),
  };
}

/** The columns and rows of `endpoint health`. */
export function healthTable(list: EndpointHealth[]): { header: string[]; rows: string[][] } {
  return { header: ['endpoint', 'health', 'took', 'error'], rows: list.map((h) => [h.endpoint, String(h.health), h.took, h.error]) };
}

/** The columns and rows of `endpoint status`. */
export function statusTable(list: EndpointStatus[]): { header: string[]; rows: string[][] } {
  return {
    header: ['endpoint', 'ID', 'version', 'db size', 'is leader', 'is learner', 'raft term', 'raft index', 'raft applied index', 'errors'],
    rows: list.map(({ endpoint, status: s }) => [
      endpoint,
      hex(s.header.memberId),
      s.version,
      humanizeBytes(s.dbSize),
      String(s.leader === s.header.memberId),
      String(s.isLearner),
      String(s.raftTerm),
      String(s.raftIndex),
      String(s.raftAppliedIndex),
      s.errors.join(', '),
    ]),
  };
}

/** The columns and rows of `endpoint hashkv`. */
export function hashTable(list: EndpointHashKV[]): { header: string[]; rows: string[][] } {
  return { header: ['endpoint', 'hash'], rows: list.map((h) => [h.endpoint, String(h.hash)]) };
}
