import type {
  Alarm,
  DeleteResponse,
  GetResponse,
  KeepAliveResponse,
  KeyValue,
  LeaseTimeToLive,
  Member,
  MemberStatus,
  Permission,
  PutResponse,
  ResponseHeader,
  TxnResponse,
  WatchEvent,
  WatchResponse,
} from '../../index.js';
import { hex, jsonArray, jsonBool, jsonBytes, jsonNumber, jsonObject, jsonString, jsonUint, type Json } from '../format.js';
import { out, type EndpointHashKV, type EndpointHealth, type EndpointStatus, type LeaseGranted, type Members, type Printer } from './printer.js';

// etcdctl marshals Go's response structs with encoding/json: protobuf field names with
// omitempty, []byte as base64, uint64 as exact numbers. Header fields are embedded (flattened)
// in clientv3's own lease responses, nested under "header" in the protobuf ones.

type Fields = Array<[string, Json]>;

function headerFields(h: ResponseHeader): Fields {
  return [
    ['cluster_id', jsonUint(h.clusterId)],
    ['member_id', jsonUint(h.memberId)],
    ['revision', jsonNumber(h.revision)],
    ['raft_term', jsonUint(h.raftTerm)],
  ];
}

/**
 * A response header as its own JSON object, left out when every field is zero: that header was
 * absent (etcd 3.4 sends none with some answers, and Go omits a nil one).
 */
function header(h: ResponseHeader): Json {
  return h.clusterId === 0n && h.memberId === 0n && h.revision === 0n && h.raftTerm === 0n ? undefined : jsonObject(headerFields(h));
}

function kv(k: KeyValue): string {
  return jsonObject([
    ['key', jsonBytes(k.key)],
    ['create_revision', jsonNumber(k.createRevision)],
    ['mod_revision', jsonNumber(k.modRevision)],
    ['version', jsonNumber(k.version)],
    ['value', jsonBytes(k.value)],
    ['lease', jsonNumber(k.lease)],
  ]);
}

function getJson(r: GetResponse): string {
  return jsonObject([
    ['header', header(r.header)],
    ['kvs', jsonArray(r.kvs.map(kv))],
    ['more', jsonBool(r.more)],
    ['count', jsonNumber(r.count)],
  ]);
}

function putJson(r: PutResponse): string {
  return jsonObject([
    ['header', header(r.header)],
    ['prev_kv', r.prevKv ? kv(r.prevKv) : undefined],
  ]);
}

function delJson(r: DeleteResponse): string {
  return jsonObject([
    ['header', header(r.header)],
    ['deleted', jsonNumber(r.deleted)],
    ['prev_kvs', jsonArray(r.prevKvs.map(kv))],
  ]);
}

function txnJson(r: TxnResponse): string {
  const responses = r.responses.map((response) => {
    switch (response.type) {
      case 'get':
        return `{"Response":{"response_range":${getJson(response)}}}`;
      case 'put':
        return `{"Response":{"response_put":${putJson(response)}}}`;
      case 'delete':
        return `{"Response":{"response_delete_range":${delJson(response)}}}`;
      case 'txn':
        return `{"Response":{"response_txn":${txnJson(response)}}}`;
    }
  });
  return jsonObject([
    ['header', header(r.header)],
    ['succeeded', jsonBool(r.succeeded)],
    ['responses', jsonArray(responses)],
  ]);
}

function event(e: WatchEvent): string {
  return jsonObject([
    ['type', e.type === 'delete' ? '1' : undefined],
    ['kv', kv(e.kv)],
    ['prev_kv', e.prevKv ? kv(e.prevKv) : undefined],
  ]);
}

function member(m: Member): string {
  return jsonObject([
    ['ID', jsonUint(m.id)],
    ['name', jsonString(m.name)],
    ['peerURLs', jsonArray(m.peerUrls.map((u) => jsonString(u, false)!))],
    ['clientURLs', jsonArray(m.clientUrls.map((u) => jsonString(u, false)!))],
    ['isLearner', jsonBool(m.isLearner)],
  ]);
}

function membersJson(r: Members, extra: Fields = []): string {
  return jsonObject([['header', header(r.header)], ...extra, ['members', jsonArray(r.members.map(member))]]);
}

function status(s: MemberStatus): string {
  return jsonObject([
    ['header', header(s.header)],
    ['version', jsonString(s.version)],
    ['dbSize', jsonNumber(s.dbSize)],
    ['leader', jsonUint(s.leader)],
    ['raftIndex', jsonUint(s.raftIndex)],
    ['raftTerm', jsonUint(s.raftTerm)],
    ['raftAppliedIndex', jsonUint(s.raftAppliedIndex)],
    ['errors', jsonArray(s.errors.map((e) => jsonString(e, false)!))],
    ['dbSizeInUse', jsonNumber(s.dbSizeInUse)],
    ['isLearner', jsonBool(s.isLearner)],
  ]);
}

const alarmTypes = { nospace: '1', corrupt: '2' } as const;
const permissionTypes = { read: undefined, write: '1', readwrite: '2' } as const;

function strings(list: string[]): Json {
  return jsonArray(list.map((s) => jsonString(s, false)!));
}

/** etcdctl's `-w json`: the response as etcd sent it, one JSON document per line. */
export class JsonPrinter implements Printer {
  constructor(private readonly isHex: boolean) {}

  get(r: GetResponse): void {
    out(getJson(r) + '\n');
  }
  put(r: PutResponse): void {
    out(putJson(r) + '\n');
  }
  del(r: DeleteResponse): void {
    out(delJson(r) + '\n');
  }
  txn(r: TxnResponse): void {
    out(txnJson(r) + '\n');
  }
  watch(r: WatchResponse): void {
    // clientv3.WatchResponse: exported Go field names, no omitempty.
    const events = r.events.length === 0 ? 'null' : `[${r.events.map(event).join(',')}]`;
    out(`{"Header":${jsonObject(headerFields(r.header))},"Events":${events},"CompactRevision":0,"Canceled":false,"Created":${r.created}}\n`);
  }
  grant(r: LeaseGranted): void {
    out(jsonObject([...headerFields(r.header), ['ID', String(r.id)], ['TTL', String(r.ttl)], ['Error', '""']]) + '\n');
  }
  revoke(_id: bigint, h: ResponseHeader): void {
    out(jsonObject([['header', header(h)]]) + '\n');
  }
  keepAlive(r: KeepAliveResponse): void {
    out(jsonObject([...headerFields(r.header), ['ID', String(r.id)], ['TTL', String(r.ttl)]]) + '\n');
  }
  timeToLive(r: LeaseTimeToLive): void {
    const keys = r.keys.length === 0 ? 'null' : `[${r.keys.map((k) => `"${k.toString('base64')}"`).join(',')}]`;
    out(
      jsonObject([
        ...headerFields(r.header),
        ['id', String(r.id)],
        ['ttl', String(r.ttl)],
        ['granted-ttl', String(r.grantedTtl)],
        ['keys', keys],
      ]) + '\n',
    );
  }
  leases(r: { header: ResponseHeader; ids: bigint[] }): void {
    out(jsonObject([...headerFields(r.header), ['leases', `[${r.ids.map((id) => `{"id":${id}}`).join(',')}]`]]) + '\n');
  }
  memberAdd(r: Members & { member: Member }): void {
    out(membersJson(r, [['member', member(r.member)]]) + '\n');
  }
  memberRemove(_id: bigint, r: Members): void {
    out(membersJson(r) + '\n');
  }
  memberUpdate(_id: bigint, r: Members): void {
    out(membersJson(r) + '\n');
  }
  memberPromote(_id: bigint, r: Members): void {
    out(membersJson(r) + '\n');
  }
  memberList(r: Members): void {
    if (!this.isHex) {
      out(membersJson(r) + '\n');
      return;
    }
    // etcdctl writes this one by hand: ids as hex strings, no revision, and "clientURLS".
    const h = r.header;
    let text = `{"header":{"cluster_id":"${hex(h.clusterId)}","member_id":"${hex(h.memberId)}","raft_term":${h.raftTerm}}`;
    r.members.forEach((m, i) => {
      text += i === 0 ? ',"members":[{"ID":"' : ',{"ID":"';
      text += `${hex(m.id)}","name":"${m.name}","peerURLs":${JSON.stringify(m.peerUrls)},"clientURLS":${JSON.stringify(m.clientUrls)}}`;
      if (i === r.members.length - 1) text += ']';
    });
    out(text + '}\n');
  }
  endpointHealth(list: EndpointHealth[]): void {
    const items = list.map((h) =>
      jsonObject([
        ['endpoint', jsonString(h.endpoint, false)],
        ['health', String(h.health)],
        ['took', jsonString(h.took, false)],
        ['error', jsonString(h.error)],
      ]),
    );
    out(`[${items.join(',')}]\n`);
  }
  endpointStatus(list: EndpointStatus[]): void {
    out(`[${list.map((s) => `{"Endpoint":${jsonString(s.endpoint, false)},"Status":${status(s.status)}}`).join(',')}]\n`);
  }
  endpointHashKV(list: EndpointHashKV[]): void {
    const items = list.map((h) => {
      const hash = jsonObject([['header', header(h.header)], ['hash', jsonNumber(h.hash)], ['compact_revision', jsonNumber(h.compactRevision)]]);
      return `{"Endpoint":${jsonString(h.endpoint, false)},"HashKV":${hash}}`;
    });
    out(`[${items.join(',')}]\n`);
  }
  moveLeader(_leader: bigint, _target: bigint, h: ResponseHeader): void {
    out(jsonObject([['header', header(h)]]) + '\n');
  }
  alarm(r: { header: ResponseHeader; alarms: Alarm[] }): void {
    const alarms = r.alarms.map((a) => jsonObject([['memberID', jsonUint(a.memberId)], ['alarm', alarmTypes[a.alarm]]]));
    out(jsonObject([['header', header(r.header)], ['alarms', jsonArray(alarms)]]) + '\n');
  }
  private headerOnly(h: ResponseHeader): void {
    out(jsonObject([['header', header(h)]]) + '\n');
  }
  roleAdd(_role: string, h: ResponseHeader): void {
    this.headerOnly(h);
  }
  roleGet(_role: string, r: { header: ResponseHeader; permissions: Permission[] }): void {
    const perms = r.permissions.map((p) =>
      jsonObject([['permType', permissionTypes[p.type]], ['key', jsonBytes(p.key)], ['range_end', jsonBytes(p.rangeEnd)]]),
    );
    out(jsonObject([['header', header(r.header)], ['perm', jsonArray(perms)]]) + '\n');
  }
  roleDelete(_role: string, h: ResponseHeader): void {
    this.headerOnly(h);
  }
  roleList(r: { header: ResponseHeader; roles: string[] }): void {
    out(jsonObject([['header', header(r.header)], ['roles', strings(r.roles)]]) + '\n');
  }
  roleGrantPermission(_role: string, h: ResponseHeader): void {
    this.headerOnly(h);
  }
  roleRevokePermission(_role: string, _key: string, _end: string, h: ResponseHeader): void {
    this.headerOnly(h);
  }
  userAdd(_user: string, h: ResponseHeader): void {
    this.headerOnly(h);
  }
  userGet(_user: string, r: { header: ResponseHeader; roles: string[] }): void {
    out(jsonObject([['header', header(r.header)], ['roles', strings(r.roles)]]) + '\n');
  }
  userList(r: { header: ResponseHeader; users: string[] }): void {
    out(jsonObject([['header', header(r.header)], ['users', strings(r.users)]]) + '\n');
  }
  userChangePassword(h: ResponseHeader): void {
    this.headerOnly(h);
  }
  userGrantRole(_user: string, _role: string, h: ResponseHeader): void {
    this.headerOnly(h);
  }
  userRevokeRole(_user: string, _role: string, h: ResponseHeader): void {
    this.headerOnly(h);
  }
  userDelete(_user: string, h: ResponseHeader): void {
    this.headerOnly(h);
  }
  authStatus(r: { header: ResponseHeader; enabled: boolean; authRevision: bigint }): void {
    out(jsonObject([['header', header(r.header)], ['enabled', jsonBool(r.enabled)], ['authRevision', jsonUint(r.authRevision)]]) + '\n');
  }
}
