import type { Command } from 'commander';
import { action } from '../context.js';
import { UsageError } from '../usage-error.js';

/** Registers `compaction`. */
export function register(program: Command): void {
  program
    .command('compaction')
    .usage('[options] <revision>')
    .description('Compacts the event history in etcd')
    .argument('[args...]')
    .option('--physical', "'true' to wait for compaction to physically remove all old revisions")
    .action(
      action<{ physical?: boolean }>(async (cli, args, flags) => {
        if (args.length !== 1) throw new UsageError('compaction command needs 1 argument');
        if (!/^[+-]?\d+$/.test(args[0]!)) throw new UsageError(`strconv.ParseInt: parsing ${JSON.stringify(args[0])}: invalid syntax`);
        const revision = BigInt(args[0]!);
        await (await cli.client()).compact(revision, { physical: flags.physical === true });
        process.stdout.write(`compacted revision ${revision}\n`);
      }),
    );
}
