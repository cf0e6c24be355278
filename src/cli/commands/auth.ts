import type { Command } from 'commander';
import type { PermissionType, RangeOptions } from '../../index.js';
import { action, type Cli } from '../context.js';
import { UsageError } from '../usage-error.js';

async function auth(cli: Cli) {
  return (await cli.client()).auth;
}

function exactly(args: string[], count: number, message: string): void {
  if (args.length !== count) throw new UsageError(message);
}

/** A new password: from `--new-user-password`, `name:password`, or asked (twice on a terminal). */
async function newPassword(name: string, interactive: boolean): Promise<string> {
  const { askPassword } = await import('../password.js');
  if (!interactive || !process.stdin.isTTY) return askPassword('');
  const first = await askPassword(`Password of ${name}: `);
  if (first === '') throw new UsageError('empty password');
  if ((await askPassword(`Type password of ${name} again for confirmation: `)) !== first) throw new UsageError('given passwords are different');
  return first;
}

/** The range of a role permission command line: key, optional end, `--prefix` / `--from-key`. */
async function permissionRange(args: string[], flags: { prefix?: boolean; fromKey?: boolean }): Promise<{ key: string; end: string; options: RangeOptions }> {
  if (flags.prefix && flags.fromKey) throw new UsageError('--from-key and --prefix flags are mutually exclusive');
  const key = args[0]!;
  if (args.length > 1) {
    if (flags.prefix || flags.fromKey) throw new UsageError(`unexpected endkey argument with --${flags.prefix ? 'prefix' : 'from-key'} flag`);
    return { key, end: args[1]!, options: { end: args[1]! } };
  }
  if (flags.prefix) {
    const { prefixEnd } = await import('../../encoding.js');
    return { key, end: key === '' ? '\x00' : Buffer.from(prefixEnd(key)).toString('latin1'), options: { prefix: true } };
  }
  if (flags.fromKey) return { key, end: '\x00', options: { fromKey: true } };
  return { key, end: '', options: {} };
}

const permissionTypes: Record<string, PermissionType> = { READ: 'read', WRITE: 'write', READWRITE: 'readwrite' };

/** Registers `auth enable|disable|status`, `user ...` and `role ...`. */
export function register(program: Command): void {
  const authCommand = program.command('auth').description('Enable or disable authentication');
  authCommand
    .command('enable')
    .description('Enables authentication')
    .action(
      action(async (cli) => {
        await (await auth(cli)).enable();
        process.stdout.write('Authentication Enabled\n');
      }),
    );
  authCommand
    .command('disable')
    .description('Disables authentication')
    .action(
      action(async (cli) => {
        await (await auth(cli)).disable();
        process.stdout.write('Authentication Disabled\n');
      }),
    );
  authCommand
    .command('status')
    .description('Returns authentication status')
    .action(
      action(async (cli) => {
        const printer = await cli.printer();
        printer.authStatus(await (await auth(cli)).status());
      }),
    );

  const user = program.command('user').description('User related commands');
  user
    .command('add')
    .usage('<user name or user:password> [options]')
    .description('Adds a new user')
    .argument('[args...]')
    .option('--interactive [bool]', 'Read password from stdin instead of interactive terminal', (v) => v !== 'false', true)
    .option('--new-user-password <password>', 'Supply password from the command line flag')
    .option('--no-password', 'Create a user without password (CN based auth only)')
    .action(
      action<{ interactive: boolean; newUserPassword?: string; password: boolean }>(async (cli, args, flags) => {
        exactly(args, 1, 'user add command requires user name as its argument');
        let name = args[0]!;
        let password: string | undefined;
        if (flags.password === false) password = undefined;
        else if (flags.newUserPassword) password = flags.newUserPassword;
        else if (name.includes(':')) {
          [name, password] = [name.slice(0, name.indexOf(':')), name.slice(name.indexOf(':') + 1)];
          if (name === '') throw new UsageError('empty user name is not allowed');
        } else password = await newPassword(name, flags.interactive);
        const printer = await cli.printer();
        printer.userAdd(name, await (await auth(cli)).userAdd(name, password, { noPassword: password === undefined }));
      }),
    );
  user
    .command('delete')
    .usage('<user name>')
    .description('Deletes a user')
    .argument('[args...]')
    .action(
      action(async (cli, args) => {
        exactly(args, 1, 'user delete command requires user name as its argument');
        const printer = await cli.printer();
        printer.userDelete(args[0]!, await (await auth(cli)).userDelete(args[0]!));
      }),
    );
  user
    .command('get')
    .usage('<user name> [options]')
    .description('Gets detailed information of a user')
    .argument('[args...]')
    .option('--detail', 'Show permissions of roles granted to the user')
    .action(
      action<{ detail?: boolean }>(async (cli, args, flags) => {
        exactly(args, 1, 'user get command requires user name as its argument');
        const printer = await cli.printer();
        const client = await auth(cli);
        const r = await client.userGet(args[0]!);
        if (!flags.detail) {
          printer.userGet(args[0]!, r);
          return;
        }
        process.stdout.write(`User: ${args[0]}\n`);
        for (const role of r.roles) {
          process.stdout.write('\n');
          printer.roleGet(role, await client.roleGet(role));
        }
      }),
    );
  user
    .command('list')
    .description('Lists all users')
    .action(
      action(async (cli) => {
        const printer = await cli.printer();
        printer.userList(await (await auth(cli)).userList());
      }),
    );
  user
    .command('passwd')
    .usage('<user name> [options]')
    .description('Changes password of user')
    .argument('[args...]')
    .option('--interactive [bool]', 'If true, read password from stdin instead of interactive terminal', (v) => v !== 'false', true)
    .action(
      action<{ interactive: boolean }>(async (cli, args, flags) => {
        exactly(args, 1, 'user passwd command requires user name as its argument');
        const password = await newPassword(args[0]!, flags.interactive);
        const printer = await cli.printer();
        printer.userChangePassword(await (await auth(cli)).userChangePassword(args[0]!, password));
      }),
    );
  user
    .command('grant-role')
    .usage('<user name> <role name>')
    .description('Grants a role to a user')
    .argument('[args...]')
    .action(
      action(async (cli, args) => {
        exactly(args, 2, 'user grant command requires user name and role name as its argument');
        const printer = await cli.printer();
        printer.userGrantRole(args[0]!, args[1]!, await (await auth(cli)).userGrantRole(args[0]!, args[1]!));
      }),
    );
  user
    .command('revoke-role')
    .usage('<user name> <role name>')
    .description('Revokes a role from a user')
    .argument('[args...]')
    .action(
      action(async (cli, args) => {
        exactly(args, 2, 'user revoke-role requires user name and role name as its argument');
        const printer = await cli.printer();
        printer.userRevokeRole(args[0]!, args[1]!, await (await auth(cli)).userRevokeRole(args[0]!, args[1]!));
      }),
    );

  const role = program.command('role').description('Role related commands');
  role
    .command('add')
    .usage('<role name>')
    .description('Adds a new role')
    .argument('[args...]')
    .action(
      action(async (cli, args) => {
        exactly(args, 1, 'role add command requires role name as its argument');
        const printer = await cli.printer();
        printer.roleAdd(args[0]!, await (await auth(cli)).roleAdd(args[0]!));
      }),
    );
  role
    .command('delete')
    .usage('<role name>')
    .description('Deletes a role')
    .argument('[args...]')
    .action(
      action(async (cli, args) => {
        exactly(args, 1, 'role delete command requires role name as its argument');
        const printer = await cli.printer();
        printer.roleDelete(args[0]!, await (await auth(cli)).roleDelete(args[0]!));
      }),
    );
  role
    .command('get')
    .usage('<role name>')
    .description('Gets detailed information of a role')
    .argument('[args...]')
    .action(
      action(async (cli, args) => {
        exactly(args, 1, 'role get command requires role name as its argument');
        const printer = await cli.printer();
        printer.roleGet(args[0]!, await (await auth(cli)).roleGet(args[0]!));
      }),
    );
  role
    .command('list')
    .description('Lists all roles')
    .action(
      action(async (cli) => {
        const printer = await cli.printer();
        printer.roleList(await (await auth(cli)).roleList());
      }),
    );
  role
    .command('grant-permission')
    .usage('[options] <role name> <permission type> <key> [endkey]')
    .description('Grants a key to a role')
    .argument('[args...]')
    .option('--prefix', 'grant a prefix permission')
    .option('--from-key', 'grant a permission of keys that are greater than or equal to the given key using byte compare')
    .action(
      action<{ prefix?: boolean; fromKey?: boolean }>(async (cli, args, flags) => {
        if (args.length < 3 || args.length > 4) {
          throw new UsageError('role grant command requires role name, permission type, and key [endkey] as its argument');
        }
        const type = permissionTypes[args[1]!.toUpperCase()];
        if (!type) throw new UsageError(`invalid permission type ${args[1]}`);
        const { key, options } = await permissionRange(args.slice(2), flags);
        const printer = await cli.printer();
        printer.roleGrantPermission(args[0]!, await (await auth(cli)).roleGrantPermission(args[0]!, type, key, options));
      }),
    );
  role
    .command('revoke-permission')
    .usage('<role name> <key> [endkey]')
    .description('Revokes a key from a role')
    .argument('[args...]')
    .option('--prefix', 'revoke a prefix permission')
    .option('--from-key', 'revoke a permission of keys that are greater than or equal to the given key using byte compare')
    .action(
      action<{ prefix?: boolean; fromKey?: boolean }>(async (cli, args, flags) => {
        if (args.length < 2 || args.length > 3) throw new UsageError('role revoke-permission command requires role name and key [endkey] as its argument');
        const { key, end, options } = await permissionRange(args.slice(1), flags);
        const printer = await cli.printer();
        printer.roleRevokePermission(args[0]!, key, end, await (await auth(cli)).roleRevokePermission(args[0]!, key, options));
      }),
    );
}
