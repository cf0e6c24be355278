import type { Command } from 'commander';
import type { DeleteOptions, GetOptions, PutOptions, SortOrder, SortTarget } from '../../index.js';
import { action } from '../context.js';
import { UsageError } from '../usage-error.js';

/** Flags of `get`, as commander gives them. */
export interface GetFlags {
  consistency: string;
  order?: string;
  sortBy?: string;
  limit?: string;
  prefix?: boolean;
  fromKey?: boolean;
  rev?: string;
  keysOnly?: boolean;
  countOnly?: boolean;
  printValueOnly?: boolean;
}

/** Flags of `put`. */
export interface PutFlags {
  lease: string;
  prevKv?: boolean;
  ignoreValue?: boolean;
  ignoreLease?: boolean;
}

/** Flags of `del`. */
export interface DelFlags {
  prefix?: boolean;
  prevKv?: boolean;
  fromKey?: boolean;
  range?: boolean;
}

const sortTargets: Record<string, SortTarget> = { CREATE: 'createRevision', KEY: 'key', MODIFY: 'modRevision', VALUE: 'value', VERSION: 'version' };
const sortOrders: Record<string, SortOrder> = { ASCEND: 'ascend', DESCEND: 'descend' };

/** Declares `get`'s flags on a command (the CLI's `get` and txn's `get` lines). */
export function getCommand(parent: Command): Command {
  return parent
    .command('get')
    .usage('[options] <key> [range_end]')
    .description('Gets the key or a range of keys')
    .argument('[args...]')
    .option('--consistency <l|s>', 'Linearizable(l) or Serializable(s)', 'l')
    .option('--order <order>', 'Order of results; ASCEND or DESCEND (ASCEND by default)')
    .option('--sort-by <target>', 'Sort target; CREATE, KEY, MODIFY, VALUE, or VERSION')
    .option('--limit <n>', 'Maximum number of results')
    .option('--prefix', 'Get keys with matching prefix')
    .option('--from-key', 'Get keys that are greater than or equal to the given key using byte compare')
    .option('--rev <revision>', 'Specify the kv revision')
    .option('--keys-only', 'Get only the keys')
    .option('--count-only', 'Get only the count')
    .option('--print-value-only', 'Only write values when using the "simple" output format');
}

/** Declares `put`'s flags on a command. */
export function putCommand(parent: Command): Command {
  return parent
    .command('put')
    .usage('[options] <key> <value> (<value> can also be given from stdin)')
    .description('Puts the given key into the store')
    .argument('[args...]')
    .option('--lease <id>', 'lease ID (in hexadecimal) to attach to the key', '0')
    .option('--prev-kv', 'return the previous key-value pair before modification')
    .option('--ignore-value', 'updates the key using its current value')
    .option('--ignore-lease', 'updates the key using its current lease');
}

/** Declares `del`'s flags on a command. */
export function delCommand(parent: Command): Command {
  return parent
    .command('del')
    .usage('[options] <key> [range_end]')
    .description('Removes the specified key or range of keys [key, range_end)')
    .argument('[args...]')
    .option('--prefix', 'delete keys with matching prefix')
    .option('--prev-kv', 'return deleted key-value pairs')
    .option('--from-key', 'delete keys that are greater than or equal to the given key using byte compare')
    .option('--range', 'delete range of keys');
}

function integer(text: string, what: string): bigint {
  if (!/^[+-]?\d+$/.test(text)) throw new UsageError(`invalid argument "${text}" for "--${what}" flag: strconv.ParseInt: parsing "${text}": invalid syntax`);
  return BigInt(text);
}

/** A lease id as etcdctl reads it: hexadecimal. */
export function leaseId(text: string, what = 'lease ID'): bigint {
  if (!/^[0-9a-fA-F]{1,16}$/.test(text)) throw new UsageError(`bad ${what} (strconv.ParseInt: parsing ${JSON.stringify(text)}: invalid syntax), expecting ID in Hex`);
  return BigInt.asIntN(64, BigInt(`0x${text}`));
}

function rangeOptions(args: string[], flags: { prefix?: boolean; fromKey?: boolean }) {
  if (flags.prefix && flags.fromKey) throw new UsageError('`--prefix` and `--from-key` cannot be set at the same time, choose one');
  if (args.length > 1 && (flags.prefix || flags.fromKey)) {
    throw new UsageError('too many arguments, only accept one argument when `--prefix` or `--from-key` is set');
  }
  const options: { prefix?: boolean; fromKey?: boolean; end?: string } = {};
  if (args.length > 1) options.end = args[1];
  if (flags.prefix) options.prefix = true;
  if (flags.fromKey) options.fromKey = true;
  return options;
}

/** The key and options of a `get` command line (etcdctl's getGetOp). */
export function getRequest(args: string[], flags: GetFlags, format: string): { key: string; options: GetOptions } {
  if (args.length === 0) throw new UsageError('get command needs one argument as key and an optional argument as range_end');
  if (flags.keysOnly && flags.countOnly) throw new UsageError('`--keys-only` and `--count-only` cannot be set at the same time, choose one');
  if (flags.countOnly && format !== 'fields') throw new UsageError('--count-only is only for `--write-out=fields`');
  if (flags.printValueOnly && format !== 'simple') throw new UsageError('print-value-only is only for `--write-out=simple`');
  const options: GetOptions = rangeOptions(args, flags);
  if (flags.consistency === 's') options.serializable = true;
  else if (flags.consistency !== 'l') throw new UsageError(`unknown consistency flag "${flags.consistency}"`);
  if (flags.limit !== undefined) options.limit = integer(flags.limit, 'limit');
  if (flags.rev !== undefined) {
    const rev = integer(flags.rev, 'rev');
    if (rev > 0n) options.revision = rev;
  }
  const order = (flags.order ?? '').toUpperCase();
  const target = (flags.sortBy ?? '').toUpperCase();
  if (order !== '' && !sortOrders[order]) throw new UsageError(`bad sort order ${flags.order}`);
  if (target !== '' && !sortTargets[target]) throw new UsageError(`bad sort target ${flags.sortBy}`);
  if (order !== '' || target !== '') options.sort = { target: sortTargets[target || 'KEY']!, order: sortOrders[order] ?? 'none' };
  if (flags.keysOnly) options.keysOnly = true;
  if (flags.countOnly) options.countOnly = true;
  return { key: args[0]!, options };
}

/** The key, value and options of a `put` command line; `stdin` supplies a missing value. */
export function putRequest(args: string[], flags: PutFlags, stdin: () => Buffer): { key: string; value: string | Buffer; options: PutOptions } {
  const needs = 'put command needs 1 argument and input from stdin or 2 arguments';
  if (args.length === 0) throw new UsageError(needs);
  if (flags.ignoreValue && args.length > 1) throw new UsageError("put command needs only 1 argument when 'ignore-value' is set");
  let value: string | Buffer = '';
  if (!flags.ignoreValue) {
    value = args.length > 1 ? args[1]! : stdin();
    if (value.length === 0 && args.length < 2) throw new UsageError(needs);
  }
  const options: PutOptions = {};
  const lease = leaseId(flags.lease);
  if (lease !== 0n) options.lease = lease;
  if (flags.prevKv) options.prevKv = true;
  if (flags.ignoreValue) options.ignoreValue = true;
  if (flags.ignoreLease) options.ignoreLease = true;
  return { key: args[0]!, value, options };
}

/** The key and options of a `del` command line. */
export function delRequest(args: string[], flags: DelFlags): { key: string; options: DeleteOptions } {
  if (args.length === 0 || args.length > 2) throw new UsageError('del command needs one argument as key and an optional argument as range_end');
  const options: DeleteOptions = rangeOptions(args, flags);
  if (flags.prevKv) options.prevKv = true;
  return { key: args[0]!, options };
}

/** Standard input, read whole (the value of `put` when the command line has none). */
async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Registers `get`, `put` and `del`. */
export function register(program: Command): void {
  getCommand(program).action(
    action<GetFlags>(async (cli, args, flags) => {
      const { key, options } = getRequest(args, flags, cli.format);
      const printer = await cli.printer({ valueOnly: flags.printValueOnly === true });
      printer.get(await (await cli.client()).get(key, options));
    }),
  );
  putCommand(program)
    .addHelpText('after', "\nWhen <value> is not given and --ignore-value is not set, the value is read from standard input:\n  $ cat file | nice-etcd put <key>")
    .action(
      action<PutFlags>(async (cli, args, flags) => {
        const stdin = args.length < 2 && !flags.ignoreValue ? await readStdin() : Buffer.alloc(0);
        const { key, value, options } = putRequest(args, flags, () => stdin);
        const printer = await cli.printer();
        printer.put(await (await cli.client()).put(key, value, options));
      }),
    );
  delCommand(program).action(
    action<DelFlags>(async (cli, args, flags) => {
      const { key, options } = delRequest(args, flags);
      const printer = await cli.printer();
      printer.del(await (await cli.client()).delete(key, options));
    }),
  );
}
