import type { Command } from 'commander';
import { action } from '../context.js';
import { UsageError } from '../usage-error.js';
import { aborted } from './lock.js';

/** Registers `elect`. */
export function register(program: Command): void {
  program
    .command('elect')
    .usage('<election-name> [proposal]')
    .description('Observes and participates in leader election')
    .addHelpText('after', '\nWith a proposal, campaigns, prints the leader key once elected and leads until interrupted (Ctrl-C).\nWith -l, prints every leader (key and proposal) as it changes.')
    .argument('[args...]')
    .option('-l, --listen', 'observation mode')
    .action(
      action<{ listen?: boolean }>(async (cli, args, flags) => {
        if (args.length !== 1 && args.length !== 2) throw new UsageError('elect takes one election name argument and an optional proposal argument');
        if (args.length === 1 && !flags.listen) throw new UsageError('no proposal argument but -l not set');
        if (args.length === 2 && flags.listen) throw new UsageError('proposal given but -l is set');
        const [{ Election }, { Session }] = await Promise.all([import('../../concurrency/election.js'), import('../../concurrency/session.js')]);
        const printer = await cli.printer();
        const client = await cli.client();
        const interrupted = cli.interrupted;
        const session = await Session.create(client, { signal: interrupted });
        try {
          const election = new Election(session, args[0]!);
          if (flags.listen) {
            try {
              for await (const leader of election.observe({ signal: interrupted })) {
                printer.get({ header: leader.header, kvs: [leader.kv], more: false, count: 1n });
              }
            } catch (error) {
              if (!interrupted.aborted) throw error;
            }
            if (!interrupted.aborted) throw new Error('elect: observer lost');
            return;
          }
          try {
            await election.campaign(args[1]!, { signal: interrupted });
          } catch (error) {
            if (interrupted.aborted) return;
            throw error;
          }
          printer.get(await client.get(election.key!));
          await Promise.race([aborted(interrupted), session.done]);
          if (!interrupted.aborted) throw new Error('elect: session expired');
          await election.resign();
        } finally {
          await session.close();
        }
      }),
    );
}
