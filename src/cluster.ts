import type { CallOptions } from './call-options.js';
import type { Connection } from './connection.js';
import { type Int64, toInt64 } from './encoding.js';
import { InvalidArgumentError } from './errors.js';
import { type ResponseHeader, decodeHeader } from './kv.js';
import type { Member as PbMember } from './proto.js';

/** A member of the cluster. */
export interface Member {
  /** The member id (uint64). */
  id: bigint;
  /** Empty until the member has started and published its name. */
  name: string;
  /** URLs the other members reach it at (raft traffic). */
  peerUrls: string[];
  /** URLs clients reach it at; empty until it has started. */
  clientUrls: string[];
  /** A learner receives the log but does not vote; promote it when it has caught up. */
  isLearner: boolean;
}

function decodeMember(m: PbMember): Member {
  return { id: m.ID, name: m.name, peerUrls: m.peerURLs, clientUrls: m.clientURLs, isLearner: m.isLearner };
}

/** Checks peer URLs before sending, as Go's client does: http(s)://host:port each. @internal */
export function validatePeerUrls(urls: readonly string[]): string[] {
  if (!Array.isArray(urls) || urls.length === 0) {
    throw new InvalidArgumentError('member peer URLs: give at least one', { reason: 'MemberBadURLs' });
  }
  for (const url of urls) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !['http:', 'https:'].includes(parsed.protocol) || !parsed.hostname || !parsed.port || (parsed.pathname !== '/' && parsed.pathname !== '')) {
      throw new InvalidArgumentError(`invalid member peer URL ${JSON.stringify(url)}: expected http(s)://host:port`, {
        reason: 'MemberBadURLs',
      });
    }
  }
  return [...urls];
}

/** Cluster membership: `client.cluster`. */
export class ClusterClient {
  /** @internal */
  constructor(
    private readonly connection: Connection,
    private readonly callOptions: (options: CallOptions) => CallOptions,
  ) {}

  /** The members; `serializable` reads the local member's view without a quorum round (etcd 3.6+ honours it). */
  async memberList(options: { serializable?: boolean } & CallOptions = {}): Promise<{ header: ResponseHeader; members: Member[] }> {
    const r = await this.connection.services.cluster.memberList({ linearizable: !options.serializable }, this.callOptions(options));
    return { header: decodeHeader(r.header), members: r.members.map(decodeMember) };
  }

  /** Adds a member (as a learner with `learner: true`); start it with the returned member list. */
  async memberAdd(peerUrls: string[], options: { learner?: boolean } & CallOptions = {}): Promise<{ header: ResponseHeader; member: Member; members: Member[] }> {
    const r = await this.connection.services.cluster.memberAdd(
      { peerURLs: validatePeerUrls(peerUrls), isLearner: options.learner ?? false },
      this.callOptions(options),
    );
    return {
      header: decodeHeader(r.header),
      member: r.member ? decodeMember(r.member) : { id: 0n, name: '', peerUrls, clientUrls: [], isLearner: options.learner ?? false },
      members: r.members.map(decodeMember),
    };
  }

  /** Removes a member; `MemberNotFoundError` if there is none with this id. */
  async memberRemove(id: Int64, options: CallOptions = {}): Promise<{ header: ResponseHeader; members: Member[] }> {
    const r = await this.connection.services.cluster.memberRemove({ ID: toUint64(id) }, this.callOptions(options));
    return { header: decodeHeader(r.header), members: r.members.map(decodeMember) };
  }

  /** Changes a member's peer URLs. */
  async memberUpdate(id: Int64, peerUrls: string[], options: CallOptions = {}): Promise<{ header: ResponseHeader; members: Member[] }> {
    const r = await this.connection.services.cluster.memberUpdate({ ID: toUint64(id), peerURLs: validatePeerUrls(peerUrls) }, this.callOptions(options));
    return { header: decodeHeader(r.header), members: r.members.map(decodeMember) };
  }

  /** Makes a learner that has caught up with the leader a voting member. */
  async memberPromote(id: Int64, options: CallOptions = {}): Promise<{ header: ResponseHeader; members: Member[] }> {
    const r = await this.connection.services.cluster.memberPromote({ ID: toUint64(id) }, this.callOptions(options));
    return { header: decodeHeader(r.header), members: r.members.map(decodeMember) };
  }
}

/** Member ids are uint64: accept any non-negative integer below 2^64. @internal */
export function toUint64(value: Int64): bigint {
  const id = typeof value === 'bigint' ? value : toInt64(value, 'member id');
  if (id < 0n || id >= 2n ** 64n) {
    throw new InvalidArgumentError(`member id must be an unsigned 64-bit integer, got ${String(value)}`);
  }
  return id;
}
