import type { Command } from 'commander';
import { action } from '../context.js';
import { goQuote } from '../format.js';
import { UsageError } from '../usage-error.js';

/** A member id as etcdctl reads it: hexadecimal uint64. */
function memberId(args: string[]): bigint {
  if (args.length !== 1) throw new UsageError('member ID is not provided');
  if (!/^[0-9a-fA-F]{1,16}$/.test(args[0]!)) {
    throw new UsageError(`bad member ID arg (strconv.ParseUint: parsing ${JSON.stringify(args[0])}: invalid syntax), expecting ID in Hex`);
  }
  return BigInt(`0x${args[0]}`);
}

function peerUrls(flag: string | undefined): string[] {
  if (!flag) throw new UsageError('member peer urls not provided');
  return flag.split(',');
}

/** Registers `member add|remove|update|list|promote`. */
export function register(program: Command): void {
  const member = program.command('member').description('Membership related commands');
  member
    .command('add')
    .usage('<memberName> [options]')
    .description('Adds a member into the cluster')
    .argument('[args...]')
    .option('--peer-urls <urls>', 'comma separated peer URLs for the new member.')
    .option('--learner', 'indicates if the new member is raft learner')
    .action(
      action<{ peerUrls?: string; learner?: boolean }>(async (cli, args, flags) => {
        if (args.length < 1) throw new UsageError('member name not provided');
        if (args.length > 1) {
          const hints = args.filter((a) => a.toLowerCase().startsWith('http')).map((a) => `, did you mean --peer-urls=${a}`);
          throw new UsageError(`too many arguments${hints.join('')}`);
        }
        const name = args[0]!;
        const urls = peerUrls(flags.peerUrls);
        const printer = await cli.printer();
        const r = await (await cli.client()).cluster.memberAdd(urls, { learner: flags.learner === true });
        printer.memberAdd(r);
        if (cli.format !== 'simple') return;
        const conf = r.members.flatMap((m) => m.peerUrls.map((u) => `${m.id === r.member.id ? name : m.name}=${u}`));
        process.stdout.write(
          `\nETCD_NAME=${goQuote(name)}\nETCD_INITIAL_CLUSTER=${goQuote(conf.join(','))}\n` +
            `ETCD_INITIAL_ADVERTISE_PEER_URLS=${goQuote(flags.peerUrls!)}\nETCD_INITIAL_CLUSTER_STATE="existing"\n`,
        );
      }),
    );
  member
    .command('remove')
    .usage('<memberID>')
    .description('Removes a member from the cluster')
    .argument('[args...]')
    .action(
      action(async (cli, args) => {
        const id = memberId(args);
        const printer = await cli.printer();
        printer.memberRemove(id, await (await cli.client()).cluster.memberRemove(id));
      }),
    );
  member
    .command('update')
    .usage('<memberID> [options]')
    .description('Updates a member in the cluster')
    .argument('[args...]')
    .option('--peer-urls <urls>', 'comma separated peer URLs for the updated member.')
    .action(
      action<{ peerUrls?: string }>(async (cli, args, flags) => {
        const id = memberId(args);
        const urls = peerUrls(flags.peerUrls);
        const printer = await cli.printer();
        printer.memberUpdate(id, await (await cli.client()).cluster.memberUpdate(id, urls));
      }),
    );
  member
    .command('list')
    .description('Lists all members in the cluster')
    .action(
      action(async (cli) => {
        const printer = await cli.printer();
        printer.memberList(await (await cli.client()).cluster.memberList());
      }),
    );
  member
    .command('promote')
    .usage('<memberID>')
    .description('Promotes a non-voting member in the cluster')
    .argument('[args...]')
    .action(
      action(async (cli, args) => {
        const id = memberId(args);
        const printer = await cli.printer();
        printer.memberPromote(id, await (await cli.client()).cluster.memberPromote(id));
      }),
    );
}
