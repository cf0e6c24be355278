import type { Command } from 'commander';
import type { WatchOptions, WatchResponse } from '../../index.js';
import { action } from '../context.js';
import { goQuote } from '../format.js';
import { UsageError } from '../usage-error.js';

interface WatchFlags {
  prefix?: boolean;
  rev: string;
  prevKv?: boolean;
  progressNotify?: boolean;
}

/**
 * Splits `watch`'s operands into the watched range and the command after `--` (found in the raw
 * command line, as etcdctl does), with ETCDCTL_WATCH_KEY / ETCDCTL_WATCH_RANGE_END standing in
 * for the range.
 */
export function watchArgs(rawArgs: string[], operands: string[], env: NodeJS.ProcessEnv): { range: string[]; exec: string[] } {
  const envKey = env.ETCDCTL_WATCH_KEY ?? '';
  const envRange = env.ETCDCTL_WATCH_RANGE_END ?? '';
  if (envKey === '' && envRange !== '') throw new UsageError(`ETCDCTL_WATCH_KEY is empty but got ETCDCTL_WATCH_RANGE_END=${JSON.stringify(envRange)}`);
  const afterWatch = rawArgs.slice(rawArgs.indexOf('watch') + 1);
  const separator = afterWatch.indexOf('--');
  const exec = separator >= 0 ? afterWatch.slice(separator + 1) : [];
  if (separator >= 0 && exec.length === 0) throw new UsageError('bad number of arguments (found separator --, but no commands)');
  let range = operands.slice(0, operands.length - exec.length);
  if (envKey !== '') {
    if (range.length > 0) throw new UsageError('bad number of arguments (found conflicting environment key)');
    range = envRange !== '' ? [envKey, envRange] : [envKey];
  }
  if (range.length < 1 || range.length > 2) throw new UsageError('bad number of arguments');
  return { range, exec };
}

/** Runs the command of `watch -- cmd` for one event, with etcdctl's ETCD_WATCH_* variables. */
async function runFor(exec: string[], response: WatchResponse, index: number): Promise<void> {
  const event = response.events[index]!;
  const env = {
    ...process.env,
    ETCD_WATCH_REVISION: String(response.header.revision),
    ETCD_WATCH_EVENT_TYPE: event.type === 'put' ? '"PUT"' : '"DELETE"',
    ETCD_WATCH_KEY: goQuote(event.kv.key),
    ETCD_WATCH_VALUE: goQuote(event.kv.value),
  };
  const { spawn } = await import('node:child_process');
  const child = spawn(exec[0]!, exec.slice(1), { env, stdio: ['ignore', 'inherit', 'inherit'] });
  const failure = await new Promise<string | undefined>((resolve) => {
    child.once('error', (error) => resolve(error.message));
    child.once('exit', (code, signal) => resolve(code === 0 ? undefined : signal ? `signal: ${signal}` : `exit status ${code}`));
  });
  if (failure !== undefined) throw new Error(`command ${JSON.stringify(exec)} error (${failure})`);
}

/** Registers `watch`. */
export function register(program: Command): void {
  program
    .command('watch')
    .usage('[options] [key or prefix] [range_end] [--] [exec-command arg1 arg2 ...]')
    .description('Watches events stream on keys or prefixes')
    .addHelpText(
      'after',
      '\nRuns until interrupted (Ctrl-C). After --, a command runs once per event with ETCD_WATCH_REVISION,\nETCD_WATCH_EVENT_TYPE, ETCD_WATCH_KEY and ETCD_WATCH_VALUE (Go-quoted) in its environment.',
    )
    .argument('[args...]')
    .option('--prefix', 'Watch on a prefix if prefix is set')
    .option('--rev <revision>', 'Revision to start watching', '0')
    .option('--prev-kv', 'get the previous key-value pair before the event happens')
    .option('--progress-notify', 'get periodic watch progress notification from server')
    .action(
      action<WatchFlags>(async (cli, operands, flags, command) => {
        const root = command.parent as Command & { rawArgs: string[] };
        const { range, exec } = watchArgs(root.rawArgs, operands, process.env);
        if (range.length === 2 && flags.prefix) throw new UsageError('`range_end` and `--prefix` are mutually exclusive');
        if (!/^[+-]?\d+$/.test(flags.rev)) throw new UsageError(`invalid argument "${flags.rev}" for "--rev" flag`);
        const options: WatchOptions = { requireLeader: true, signal: cli.interrupted };
        if (BigInt(flags.rev) > 0n) options.startRevision = BigInt(flags.rev);
        if (range.length === 2) options.end = range[1];
        if (flags.prefix) options.prefix = true;
        if (flags.prevKv) options.prevKv = true;
        if (flags.progressNotify) options.progressNotify = true;
        const printer = await cli.printer();
        const watcher = (await cli.client()).watch(range[0]!, options);
        try {
          for await (const response of watcher) {
            if (response.progressNotify) process.stdout.write(`progress notify: ${response.header.revision}\n`);
            printer.watch(response);
            for (let i = 0; i < response.events.length && exec.length > 0; i++) await runFor(exec, response, i);
          }
        } catch (error) {
          if (!cli.interrupted.aborted) throw error;
        }
        if (cli.interrupted.aborted) return; // Ctrl-C: a clean end
        if (watcher.error) process.stderr.write(`watch was canceled (${watcher.error.details || watcher.error.message})\n`);
        throw new Error('watch is canceled by the server');
      }),
    );
}
