import type { Command } from 'commander';
import { action, reworded } from '../context.js';
import { hex16 } from '../format.js';
import { UsageError } from '../usage-error.js';
import { leaseId } from './kv.js';

function leaseArg(args: string[], message: string): bigint {
  if (args.length !== 1) throw new UsageError(message);
  return leaseId(args[0]!, 'lease ID arg');
}

/** Registers `lease grant|revoke|timetolive|list|keep-alive`. */
export function register(program: Command): void {
  const lease = program.command('lease').description('Lease related commands');
  lease
    .command('grant')
    .usage('<ttl>')
    .description('Creates leases')
    .argument('[args...]')
    .action(
      action(async (cli, args) => {
        if (args.length !== 1) throw new UsageError('lease grant command needs TTL argument');
        if (!/^[+-]?\d+$/.test(args[0]!)) throw new UsageError(`bad TTL (strconv.ParseInt: parsing ${JSON.stringify(args[0])}: invalid syntax)`);
        const printer = await cli.printer();
        const client = await cli.client();
        const granted = await reworded('failed to grant lease', () => client.lease.grant(Number(args[0])));
        printer.grant(granted);
      }),
    );
  lease
    .command('revoke')
    .usage('<leaseID>')
    .description('Revokes leases')
    .argument('[args...]')
    .action(
      action(async (cli, args) => {
        const id = leaseArg(args, 'lease revoke command needs 1 argument');
        const printer = await cli.printer();
        const client = await cli.client();
        printer.revoke(id, await reworded('failed to revoke lease', () => client.lease.revoke(id)));
      }),
    );
  lease
    .command('timetolive')
    .usage('<leaseID> [options]')
    .description('Get lease information')
    .argument('[args...]')
    .option('--keys', 'Get keys attached to this lease')
    .action(
      action<{ keys?: boolean }>(async (cli, args, flags) => {
        const id = leaseArg(args, 'lease timetolive command needs lease ID as argument');
        const printer = await cli.printer();
        const keys = flags.keys === true;
        printer.timeToLive(await (await cli.client()).lease.timeToLive(id, { keys }), keys);
      }),
    );
  lease
    .command('list')
    .description('List all active leases')
    .action(
      action(async (cli) => {
        const printer = await cli.printer();
        printer.leases(await (await cli.client()).lease.leases());
      }),
    );
  lease
    .command('keep-alive')
    .usage('[options] <leaseID>')
    .description('Keeps leases alive (renew)')
    .argument('[args...]')
    .option('--once', 'Resets the keep-alive time to its original value and exits immediately')
    .action(
      action<{ once?: boolean }>(async (cli, args, flags) => {
        const id = leaseArg(args, 'lease keep-alive command needs lease ID as argument');
        const printer = await cli.printer();
        const client = await cli.client();
        if (flags.once) {
          printer.keepAlive(await client.lease.keepAliveOnce(id));
          return;
        }
        const keepAlive = client.lease.keepAlive(id, { signal: cli.interrupted });
        for await (const response of keepAlive) printer.keepAlive(response);
        if (cli.interrupted.aborted) return;
        if (cli.format === 'simple') process.stdout.write(`lease ${hex16(id)} expired or revoked.\n`);
        if (keepAlive.reason === 'lost') throw keepAlive.cause ?? new Error('lease keep-alive lost');
      }),
    );
}
