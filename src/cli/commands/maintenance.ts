import type { Command } from 'commander';
import { action, errorText } from '../context.js';
import { humanizeBytes } from '../format.js';
import { UsageError } from '../usage-error.js';
import { targetEndpoints } from './endpoint.js';

/** Registers `alarm list|disarm`, `defrag`, `snapshot save` and `move-leader`. */
export function register(program: Command): void {
  const alarm = program.command('alarm').description('Alarm related commands');
  alarm
    .command('disarm')
    .description('Disarms all alarms')
    .action(
      action(async (cli) => {
        const printer = await cli.printer();
        printer.alarm(await (await cli.client()).maintenance.disarm());
      }),
    );
  alarm
    .command('list')
    .description('Lists all alarms')
    .action(
      action(async (cli) => {
        const printer = await cli.printer();
        printer.alarm(await (await cli.client()).maintenance.alarms());
      }),
    );

  program
    .command('defrag')
    .description('Defragments the storage of the etcd members with given endpoints')
    .option('--cluster', 'use all endpoints from the cluster member list')
    .action(
      action<{ cluster?: boolean }>(async (cli, _args, flags) => {
        const endpoints = await targetEndpoints(cli, flags.cluster);
        const client = await cli.client();
        let failures = 0;
        for (const e of endpoints) {
          try {
            await client.maintenance.defragment(e);
            process.stdout.write(`Finished defragmenting etcd member[${e}]\n`);
          } catch (error) {
            failures++;
            process.stderr.write(`Failed to defragment etcd member[${e}] (${await errorText(error)})\n`);
          }
        }
        if (failures > 0) process.exitCode = 1;
      }),
    );

  program
    .command('snapshot')
    .description('Manages etcd node snapshots')
    .command('save')
    .usage('<filename>')
    .description('Stores an etcd node backend snapshot to a given file')
    .argument('[args...]')
    .action(
      action(async (cli, args) => {
        if (args.length !== 1) throw new UsageError('snapshot save expects one argument');
        const path = args[0]!;
        const client = await cli.client();
        // On a terminal, a progress line of the bytes received, redrawn at most every 100 ms.
        const progress = process.stderr.isTTY ? new ProgressLine(process.stderr) : undefined;
        try {
          // saveSnapshot checks etcd's checksum and renames into place only when whole.
          await client.maintenance.saveSnapshot(path, { signal: cli.interrupted, onProgress: progress && ((bytes) => progress.update(bytes)) });
        } finally {
          progress?.end();
        }
        process.stdout.write(`Snapshot saved at ${path}\n`);
      }),
    );

  program
    .command('move-leader')
    .usage('<transferee-member-id>')
    .description('Transfers leadership to another etcd cluster member.')
    .argument('[args...]')
    .action(
      action(async (cli, args) => {
        if (args.length !== 1) throw new UsageError('move-leader command needs 1 argument');
        if (!/^[0-9a-fA-F]{1,16}$/.test(args[0]!)) throw new UsageError(`strconv.ParseUint: parsing ${JSON.stringify(args[0])}: invalid syntax`);
        const target = BigInt(`0x${args[0]}`);
        const printer = await cli.printer();
        const client = await cli.client();
        const endpoints = await cli.endpoints();
        for (const endpoint of endpoints) {
          const status = await client.maintenance.status(endpoint);
          if (status.leader !== status.header.memberId) continue;
          const header = await client.maintenance.moveLeader(target, { endpoint });
          printer.moveLeader(status.leader, target, header);
          return;
        }
        throw new UsageError(`no leader endpoint given at [${endpoints.join(' ')}]`);
      }),
    );
}

/** One line on a terminal, redrawn in place: `Received 3.4 MB (3400000 bytes)`. */
class ProgressLine {
  #last = 0;
  #bytes = 0;
  #drawn = false;

  constructor(private readonly out: NodeJS.WriteStream) {}

  update(bytes: number): void {
    this.#bytes = bytes;
    const now = performance.now();
    if (this.#drawn && now - this.#last < 100) return;
    this.#last = now;
    this.#draw();
  }

  /** Draws the final count and ends the line. */
  end(): void {
    if (this.#drawn || this.#bytes > 0) {
      this.#draw();
      this.out.write('\n');
    }
  }

  #draw(): void {
    this.#drawn = true;
    this.out.write(`\r\x1b[KReceived ${humanizeBytes(BigInt(this.#bytes))} (${this.#bytes} bytes)`);
  }
}
