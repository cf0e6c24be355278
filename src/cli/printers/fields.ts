import type {
  Alarm,
  DeleteResponse,
  GetResponse,
  KeepAliveResponse,
  KeyValue,
  LeaseTimeToLive,
  Permission,
  PutResponse,
  ResponseHeader,
  TxnResponse,
  WatchResponse,
} from '../../index.js';
import { goQuote } from '../format.js';
import { out, UnsupportedPrinter, type EndpointHashKV, type EndpointHealth, type EndpointStatus, type LeaseGranted, type Members } from './printer.js';

function hdr(h: ResponseHeader): string {
  const u = (n: bigint) => BigInt.asUintN(64, n);
  return `"ClusterID" : ${u(h.clusterId)}\n"MemberID" : ${u(h.memberId)}\n"Revision" : ${h.revision}\n"RaftTerm" : ${u(h.raftTerm)}\n`;
}

function kv(prefix: string, k: KeyValue): string {
  return (
    `"${prefix}Key" : ${goQuote(k.key)}\n"${prefix}CreateRevision" : ${k.createRevision}\n"${prefix}ModRevision" : ${k.modRevision}\n` +
    `"${prefix}Version" : ${k.version}\n"${prefix}Value" : ${goQuote(k.value)}\n"${prefix}Lease" : ${k.lease}\n`
  );
}

function getText(r: GetResponse): string {
  return hdr(r.header) + r.kvs.map((k) => kv('', k)).join('') + `"More" : ${r.more}\n"Count" : ${r.count}\n`;
}
function putText(r: PutResponse): string {
  return hdr(r.header) + (r.prevKv ? kv('Prev', r.prevKv) : '');
}
function delText(r: DeleteResponse): string {
  return hdr(r.header) + `"Deleted" : ${r.deleted}\n` + r.prevKvs.map((k) => kv('Prev', k)).join('');
}

/** etcdctl's `-w fields`: one `"Name" : value` line per field, Go-quoted strings. */
export class FieldsPrinter extends UnsupportedPrinter {
  constructor() {
    super('fields');
  }
  override get(r: GetResponse): void {
    out(getText(r));
  }
  override put(r: PutResponse): void {
    out(putText(r));
  }
  override del(r: DeleteResponse): void {
    out(delText(r));
  }
  override txn(r: TxnResponse): void {
    let text = hdr(r.header) + `"Succeeded" : ${r.succeeded}\n`;
    for (const response of r.responses) {
      if (response.type === 'get') text += getText(response);
      else if (response.type === 'put') text += putText(response);
      else if (response.type === 'delete') text += delText(response);
      else text += `"Unknown" : "txn"\n`;
    }
    out(text);
  }
  override watch(r: WatchResponse): void {
    let text = hdr(r.header);
    for (const e of r.events) {
      text += `"Type" : ${e.type === 'put' ? 'PUT' : 'DELETE'}\n`;
      if (e.prevKv) text += kv('Prev', e.prevKv);
      text += kv('', e.kv);
    }
    out(text);
  }
  override grant(r: LeaseGranted): void {
    out(hdr(r.header) + `"ID" : ${r.id}\n"TTL" : ${r.ttl}\n`);
  }
  override revoke(_id: bigint, h: ResponseHeader): void {
    out(hdr(h));
  }
  override keepAlive(r: KeepAliveResponse): void {
    out(hdr(r.header) + `"ID" : ${r.id}\n"TTL" : ${r.ttl}\n`);
  }
  override timeToLive(r: LeaseTimeToLive): void {
    out(hdr(r.header) + `"ID" : ${r.id}\n"TTL" : ${r.ttl}\n"GrantedTTL" : ${r.grantedTtl}\n` + r.keys.map((k) => `"Key" : ${goQuote(k)}\n`).join(''));
  }
  override leases(r: { header: ResponseHeader; ids: bigint[] }): void {
    out(hdr(r.header) + r.ids.map((id) => `"ID" : ${id}\n`).join(''));
  }
  override memberList(r: Members): void {
    let text = hdr(r.header);
    for (const m of r.members) {
      text += `"ID" : ${m.id}\n"Name" : ${goQuote(m.name)}\n`;
      text += m.peerUrls.map((u) => `"PeerURL" : ${goQuote(u)}\n`).join('');
      text += m.clientUrls.map((u) => `"ClientURL" : ${goQuote(u)}\n`).join('');
      text += `"IsLearner" : ${m.isLearner}\n\n`;
    }
    out(text);
  }
  override endpointHealth(list: EndpointHealth[]): void {
    out(list.map((h) => `"Endpoint" : ${goQuote(h.endpoint)}\n"Health" : ${h.health}\n"Took" : ${h.took}\n"Error" : ${h.error}\n\n`).join(''));
  }
  override endpointStatus(list: EndpointStatus[]): void {
    let text = '';
    for (const { endpoint, status: s } of list) {
      text += hdr(s.header) + `"Version" : ${goQuote(s.version)}\n"DBSize" : ${s.dbSize}\n"Leader" : ${s.leader}\n"IsLearner" : ${s.isLearner}\n`;
      text += `"RaftIndex" : ${s.raftIndex}\n"RaftTerm" : ${s.raftTerm}\n"RaftAppliedIndex" : ${s.raftAppliedIndex}\n"Errors" : [${s.errors.join(' ')}]\n`;
      text += `"Endpoint" : ${goQuote(endpoint)}\n\n`;
    }
    out(text);
  }
  override endpointHashKV(list: EndpointHashKV[]): void {
    out(list.map((h) => hdr(h.header) + `"Endpoint" : ${goQuote(h.endpoint)}\n"Hash" : ${h.hash}\n\n`).join(''));
  }
  override alarm(r: { header: ResponseHeader; alarms: Alarm[] }): void {
    out(hdr(r.header) + r.alarms.map((a) => `"MemberID" : ${a.memberId}\n"AlarmType" : ${a.alarm.toUpperCase()}\n\n`).join(''));
  }
  override roleAdd(_role: string, h: ResponseHeader): void {
    out(hdr(h));
  }
  override roleGet(_role: string, r: { header: ResponseHeader; permissions: Permission[] }): void {
    const perms = r.permissions.map((p) => `"PermType" :  ${p.type.toUpperCase()}\n"Key" : ${goQuote(p.key)}\n"RangeEnd" : ${goQuote(p.rangeEnd)}\n`);
    out(hdr(r.header) + perms.join(''));
  }
  override roleDelete(_role: string, h: ResponseHeader): void {
    out(hdr(h));
  }
  override roleList(r: { header: ResponseHeader; roles: string[] }): void {
    out(hdr(r.header) + `"Roles" :${r.roles.map((role) => ` ${goQuote(role)}`).join('')}\n`);
  }
  override roleGrantPermission(_role: string, h: ResponseHeader): void {
    out(hdr(h));
  }
  override roleRevokePermission(_role: string, _key: string, _end: string, h: ResponseHeader): void {
    out(hdr(h));
  }
  override userAdd(_user: string, h: ResponseHeader): void {
    out(hdr(h));
  }
  override userChangePassword(h: ResponseHeader): void {
    out(hdr(h));
  }
  override userGrantRole(_user: string, _role: string, h: ResponseHeader): void {
    out(hdr(h));
  }
  override userRevokeRole(_user: string, _role: string, h: ResponseHeader): void {
    out(hdr(h));
  }
  override userDelete(_user: string, h: ResponseHeader): void {
    out(hdr(h));
  }
}
