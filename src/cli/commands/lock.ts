import type { Command } from 'commander';
import { action } from '../context.js';
import { UsageError } from '../usage-error.js';

/** Resolves when the signal aborts. */
export function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
}

/** Registers `lock`. */
export function register(program: Command): void {
  program
    .command('lock')
    .usage('<lockname> [exec-command arg1 arg2 ...]')
    .description('Acquires a named lock')
    .addHelpText(
      'after',
      '\nWithout a command, prints the lock key and holds the lock until interrupted (Ctrl-C).\nWith one, runs it while holding the lock, with ETCD_LOCK_KEY and ETCD_LOCK_REV in its environment,\nreleases the lock and exits with its exit code.',
    )
    .argument('[args...]')
    .option('--ttl <seconds>', 'timeout for session', '10')
    .action(
      action<{ ttl: string }>(async (cli, args, flags) => {
        if (args.length === 0) throw new UsageError('lock takes a lock name argument and an optional command to execute');
        const [{ Mutex }, { Session }] = await Promise.all([import('../../concurrency/mutex.js'), import('../../concurrency/session.js')]);
        const printer = await cli.printer();
        const client = await cli.client();
        const interrupted = cli.interrupted;
        const session = await Session.create(client, { ttl: Number(flags.ttl), signal: interrupted });
        try {
          const mutex = new Mutex(session, args[0]!);
          try {
            await mutex.lock({ signal: interrupted });
          } catch (error) {
            if (interrupted.aborted) return;
            throw error;
          }
          if (args.length > 1) {
            const env = { ETCD_LOCK_KEY: mutex.key.toString(), ETCD_LOCK_REV: String(mutex.header?.revision ?? 0n), ...process.env };
            const { spawn } = await import('node:child_process');
            const child = spawn(args[1]!, args.slice(2), { env, stdio: 'inherit' });
            const code = await new Promise<number>((resolve, reject) => {
              child.once('error', reject);
              child.once('exit', (status) => resolve(status ?? 1));
            });
            await mutex.unlock();
            process.exitCode = code;
            return;
          }
          const held = await client.get(mutex.key);
          if (held.kvs.length === 0) throw new Error('lock lost on init');
          printer.get(held);
          await Promise.race([aborted(interrupted), session.done]);
          if (!interrupted.aborted) throw new Error('session expired');
          await mutex.unlock();
        } finally {
          await session.close();
        }
      }),
    );
}
