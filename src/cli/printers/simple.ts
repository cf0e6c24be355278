import { prefixEnd } from '../../encoding.js';
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
import { hex, hex16, hexBytes, hexSpace16 } from '../format.js';
import {
  hashTable,
  memberTable,
  out,
  statusTable,
  type EndpointHashKV,
  type EndpointHealth,
  type EndpointStatus,
  type LeaseGranted,
  type Members,
  type Printer,
} from './printer.js';

/** etcdctl's default format: keys and values as they are, one per line, and short sentences. */
export class SimplePrinter implements Printer {
  constructor(
    private readonly isHex: boolean,
    private readonly valueOnly = false,
  ) {}

  private kv(kv: KeyValue): string {
    const key = this.isHex ? hexBytes(kv.key) : kv.key.toString('latin1');
    const value = this.isHex ? hexBytes(kv.value) : kv.value.toString('latin1');
    return this.valueOnly ? `${value}\n` : `${key}\n${value}\n`;
  }

  private write(text: string): void {
    // Keys and values are written as their bytes (latin1 is one char per byte), as Go prints them.
    process.stdout.write(Buffer.from(text, 'latin1'));
  }

  private getText(r: GetResponse): string {
    return r.kvs.map((kv) => this.kv(kv)).join('');
  }
  private putText(r: PutResponse): string {
    return 'OK\n' + (r.prevKv ? this.kv(r.prevKv) : '');
  }
  private delText(r: DeleteResponse): string {
    return `${r.deleted}\n` + r.prevKvs.map((kv) => this.kv(kv)).join('');
  }

  get(r: GetResponse): void {
    this.write(this.getText(r));
  }
  put(r: PutResponse): void {
    this.write(this.putText(r));
  }
  del(r: DeleteResponse): void {
    this.write(this.delText(r));
  }
  txn(r: TxnResponse): void {
    let text = r.succeeded ? 'SUCCESS\n' : 'FAILURE\n';
    for (const response of r.responses) {
      text += '\n';
      if (response.type === 'get') text += this.getText(response);
      else if (response.type === 'put') text += this.putText(response);
      else if (response.type === 'delete') text += this.delText(response);
      else text += `unexpected response ${response.type}\n`;
    }
    this.write(text);
  }
  watch(r: WatchResponse): void {
    let text = '';
    for (const event of r.events) {
      text += event.type === 'put' ? 'PUT\n' : 'DELETE\n';
      if (event.prevKv) text += this.kv(event.prevKv);
      text += this.kv(event.kv);
    }
    this.write(text);
  }
  grant(r: LeaseGranted): void {
    out(`lease ${hex16(r.id)} granted with TTL(${r.ttl}s)\n`);
  }
  revoke(id: bigint): void {
    out(`lease ${hex16(id)} revoked\n`);
  }
  keepAlive(r: KeepAliveResponse): void {
    out(`lease ${hex16(r.id)} keepalived with TTL(${r.ttl})\n`);
  }
  timeToLive(r: LeaseTimeToLive, keys: boolean): void {
    if (r.grantedTtl === 0 && r.ttl === -1) {
      out(`lease ${hex16(r.id)} already expired\n`);
      return;
    }
    let text = `lease ${hex16(r.id)} granted with TTL(${r.grantedTtl}s), remaining(${r.ttl}s)`;
    if (keys) text += `, attached keys([${r.keys.map((k) => k.toString('latin1')).join(' ')}])`;
    this.write(text + '\n');
  }
  leases(r: { ids: bigint[] }): void {
    out(`found ${r.ids.length} leases\n` + r.ids.map((id) => `${hex16(id)}\n`).join(''));
  }
  memberAdd(r: Members & { member: { id: bigint } }): void {
    out(`Member ${hexSpace16(r.member.id)} added to cluster ${hexSpace16(r.header.clusterId)}\n`);
  }
  memberRemove(id: bigint, r: Members): void {
    out(`Member ${hexSpace16(id)} removed from cluster ${hexSpace16(r.header.clusterId)}\n`);
  }
  memberUpdate(id: bigint, r: Members): void {
    out(`Member ${hexSpace16(id)} updated in cluster ${hexSpace16(r.header.clusterId)}\n`);
  }
  memberPromote(id: bigint, r: Members): void {
    out(`Member ${hexSpace16(id)} promoted in cluster ${hexSpace16(r.header.clusterId)}\n`);
  }
  memberList(r: Members): void {
    out(memberTable(r.members).rows.map((row) => row.join(', ') + '\n').join(''));
  }
  endpointHealth(list: EndpointHealth[]): void {
    for (const h of list) {
      if (h.error === '') out(`${h.endpoint} is healthy: successfully committed proposal: took = ${h.took}\n`);
      else process.stderr.write(`${h.endpoint} is unhealthy: failed to commit proposal: ${h.error}\n`);
    }
  }
  endpointStatus(list: EndpointStatus[]): void {
    out(statusTable(list).rows.map((row) => row.join(', ') + '\n').join(''));
  }
  endpointHashKV(list: EndpointHashKV[]): void {
    out(hashTable(list).rows.map((row) => row.join(', ') + '\n').join(''));
  }
  moveLeader(leader: bigint, target: bigint): void {
    out(`Leadership transferred from ${hex(leader)} to ${hex(target)}\n`);
  }
  alarm(r: { alarms: Alarm[] }): void {
    // Go prints the protobuf text form of each AlarmMember.
    out(r.alarms.map((a) => `memberID:${BigInt.asUintN(64, a.memberId)} alarm:${a.alarm.toUpperCase()} \n`).join(''));
  }
  roleAdd(role: string): void {
    out(`Role ${role} created\n`);
  }
  roleGet(role: string, r: { permissions: Permission[] }): void {
    const range = (p: Permission) => {
      const key = p.key.toString('latin1');
      if (p.rangeEnd.length === 0) return `\t${key}\n`;
      const end = p.rangeEnd.toString('latin1');
      let text = end !== '\x00' ? `\t[${key}, ${end})` : `\t[${key}, <open ended>`;
      if (Buffer.from(prefixEnd(p.key)).equals(p.rangeEnd)) text += ` (prefix ${key})`;
      return text + '\n';
    };
    // The text is written as latin1 (one char per byte); the role name is UTF-8 like any argument.
    let text = `Role ${Buffer.from(role).toString('latin1')}\nKV Read:\n`;
    for (const p of r.permissions) if (p.type === 'read' || p.type === 'readwrite') text += range(p);
    text += 'KV Write:\n';
    for (const p of r.permissions) if (p.type === 'write' || p.type === 'readwrite') text += range(p);
    this.write(text);
  }
  roleDelete(role: string): void {
    out(`Role ${role} deleted\n`);
  }
  roleList(r: { roles: string[] }): void {
    out(r.roles.map((role) => `${role}\n`).join(''));
  }
  roleGrantPermission(role: string): void {
    out(`Role ${role} updated\n`);
  }
  roleRevokePermission(role: string, key: string, end: string): void {
    if (end === '') out(`Permission of key ${key} is revoked from role ${role}\n`);
    else if (end !== '\x00') out(`Permission of range [${key}, ${end}) is revoked from role ${role}\n`);
    else out(`Permission of range [${key}, <open ended> is revoked from role ${role}\n`);
  }
  userAdd(user: string): void {
    out(`User ${user} created\n`);
  }
  userGet(user: string, r: { roles: string[] }): void {
    out(`User: ${user}\nRoles:${r.roles.map((role) => ` ${role}`).join('')}\n`);
  }
  userList(r: { users: string[] }): void {
    out(r.users.map((user) => `${user}\n`).join(''));
  }
  userChangePassword(): void {
    out('Password updated\n');
  }
  userGrantRole(user: string, role: string): void {
    out(`Role ${role} is granted to user ${user}\n`);
  }
  userRevokeRole(user: string, role: string): void {
    out(`Role ${role} is revoked from user ${user}\n`);
  }
  userDelete(user: string): void {
    out(`User ${user} deleted\n`);
  }
  authStatus(r: { header: ResponseHeader; enabled: boolean; authRevision: bigint }): void {
    out(`Authentication Status: ${r.enabled}\nAuthRevision: ${r.authRevision}\n`);
  }
}
