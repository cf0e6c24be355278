import type { CallOptions } from './call-options.js';
import type { Connection } from './connection.js';
import { type Bytes, toBuffer } from './encoding.js';
import { InvalidArgumentError } from './errors.js';
import { type ResponseHeader, decodeHeader } from './kv.js';
import { type RangeOptions, encodeRange } from './op.js';
import { Permission_Type } from './proto.js';

/** What a permission allows. */
export type PermissionType = 'read' | 'write' | 'readwrite';

/** A permission of a role on a key, a range [key, rangeEnd) or everything from key on (rangeEnd "\x00"). */
export interface Permission {
  /** What the permission allows. */
  type: PermissionType;
  /** The key, or the first key of the range. */
  key: Buffer;
  /** Empty for a single key. */
  rangeEnd: Buffer;
}

const toType: Record<PermissionType, Permission_Type> = {
  read: Permission_Type.READ,
  write: Permission_Type.WRITE,
  readwrite: Permission_Type.READWRITE,
};
const fromType = new Map<Permission_Type, PermissionType>([
  [Permission_Type.READ, 'read'],
  [Permission_Type.WRITE, 'write'],
  [Permission_Type.READWRITE, 'readwrite'],
]);

/** etcd's user and role management: `client.auth`. Changes need the root role once auth is enabled. */
export class AuthClient {
  /** @internal */
  constructor(
    private readonly connection: Connection,
    private readonly callOptions: (options: CallOptions) => CallOptions,
  ) {}

  private get rpc() {
    return this.connection.services.auth;
  }

  /** Turns authentication on (a `root` user with the `root` role must exist). */
  async enable(options: CallOptions = {}): Promise<ResponseHeader> {
    return decodeHeader((await this.rpc.authEnable({}, this.callOptions(options))).header);
  }

  /** Turns authentication off. */
  async disable(options: CallOptions = {}): Promise<ResponseHeader> {
    return decodeHeader((await this.rpc.authDisable({}, this.callOptions(options))).header);
  }

  /** Whether auth is enabled, and the auth store's revision. */
  async status(options: CallOptions = {}): Promise<{ header: ResponseHeader; enabled: boolean; authRevision: bigint }> {
    const r = await this.rpc.authStatus({}, this.callOptions(options));
    return { header: decodeHeader(r.header), enabled: r.enabled, authRevision: r.authRevision };
  }

  /** Exchanges a user name and password for a token (the client does this itself with `auth` config). */
  async authenticate(name: string, password: string, options: CallOptions = {}): Promise<{ header: ResponseHeader; token: string }> {
    const r = await this.rpc.authenticate({ name, password }, this.callOptions(options));
    return { header: decodeHeader(r.header), token: r.token };
  }

  /** Adds a user; without a password (`noPassword`), it can only authenticate by client certificate. */
  async userAdd(name: string, password: string | undefined, options: { noPassword?: boolean } & CallOptions = {}): Promise<ResponseHeader> {
    const noPassword = options.noPassword ?? password === undefined;
    const r = await this.rpc.userAdd({ name, password: password ?? '', options: { noPassword }, hashedPassword: '' }, this.callOptions(options));
    return decodeHeader(r.header);
  }

  /** A user's roles. */
  async userGet(name: string, options: CallOptions = {}): Promise<{ header: ResponseHeader; roles: string[] }> {
    const r = await this.rpc.userGet({ name }, this.callOptions(options));
    return { header: decodeHeader(r.header), roles: r.roles };
  }

  /** Every user's name. */
  async userList(options: CallOptions = {}): Promise<{ header: ResponseHeader; users: string[] }> {
    const r = await this.rpc.userList({}, this.callOptions(options));
    return { header: decodeHeader(r.header), users: r.users };
  }

  /** Deletes a user. */
  async userDelete(name: string, options: CallOptions = {}): Promise<ResponseHeader> {
    return decodeHeader((await this.rpc.userDelete({ name }, this.callOptions(options))).header);
  }

  /** Changes a user's password. */
  async userChangePassword(name: string, password: string, options: CallOptions = {}): Promise<ResponseHeader> {
    return decodeHeader((await this.rpc.userChangePassword({ name, password, hashedPassword: '' }, this.callOptions(options))).header);
  }

  /** Grants a role to a user. */
  async userGrantRole(user: string, role: string, options: CallOptions = {}): Promise<ResponseHeader> {
    return decodeHeader((await this.rpc.userGrantRole({ user, role }, this.callOptions(options))).header);
  }

  /** Revokes a role from a user. */
  async userRevokeRole(name: string, role: string, options: CallOptions = {}): Promise<ResponseHeader> {
    return decodeHeader((await this.rpc.userRevokeRole({ name, role }, this.callOptions(options))).header);
  }

  /** Adds a role. */
  async roleAdd(name: string, options: CallOptions = {}): Promise<ResponseHeader> {
    return decodeHeader((await this.rpc.roleAdd({ name }, this.callOptions(options))).header);
  }

  /** A role's permissions. */
  async roleGet(role: string, options: CallOptions = {}): Promise<{ header: ResponseHeader; permissions: Permission[] }> {
    const r = await this.rpc.roleGet({ role }, this.callOptions(options));
    const permissions = r.perm.map((p) => ({ type: fromType.get(p.permType) ?? 'read', key: toBuffer(p.key), rangeEnd: toBuffer(p.rangeEnd) }));
    return { header: decodeHeader(r.header), permissions };
  }

  /** Every role's name. */
  async roleList(options: CallOptions = {}): Promise<{ header: ResponseHeader; roles: string[] }> {
    const r = await this.rpc.roleList({}, this.callOptions(options));
    return { header: decodeHeader(r.header), roles: r.roles };
  }

  /** Deletes a role. */
  async roleDelete(role: string, options: CallOptions = {}): Promise<ResponseHeader> {
    return decodeHeader((await this.rpc.roleDelete({ role }, this.callOptions(options))).header);
  }

  /**
   * Grants `type` on a key, or with `prefix`, `end` or `fromKey` on a range (etcd's range rules).
   * @example auth.roleGrantPermission('app', 'readwrite', 'app/', { prefix: true })
   */
  async roleGrantPermission(role: string, type: PermissionType, key: Bytes, options: RangeOptions & CallOptions = {}): Promise<ResponseHeader> {
    const permType = toType[type];
    if (permType === undefined) {
      throw new InvalidArgumentError(`permission type must be read, write or readwrite, got ${String(type)}`);
    }
    const range = encodeRange('roleGrantPermission', key, options);
    const r = await this.rpc.roleGrantPermission({ name: role, perm: { permType, key: range.key, rangeEnd: range.rangeEnd } }, this.callOptions(options));
    return decodeHeader(r.header);
  }

  /** Revokes the permission on exactly this key or range (as it was granted). */
  async roleRevokePermission(role: string, key: Bytes, options: RangeOptions & CallOptions = {}): Promise<ResponseHeader> {
    const range = encodeRange('roleRevokePermission', key, options);
    const r = await this.rpc.roleRevokePermission({ role, key: range.key, rangeEnd: range.rangeEnd }, this.callOptions(options));
    return decodeHeader(r.header);
  }
}
