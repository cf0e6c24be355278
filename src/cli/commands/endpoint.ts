import type { Command } from 'commander';
import { action, errorText, type Cli } from '../context.js';
import { goDuration } from '../format.js';
import type { EndpointHashKV, EndpointHealth, EndpointStatus } from '../printers/printer.js';

/**
 * The endpoints a command works on: `--endpoints` (or what `--discovery-srv` finds), or with
 * `--cluster` every member's client URLs.
 */
export async function targetEndpoints(cli: Cli, cluster: boolean | undefined): Promise<string[]> {
  if (!cluster) return cli.endpoints();
  // MemberList needs no authentication: leave the credentials out, as etcdctl does.
  const client = await cli.client(undefined, false);
  try {
    const { members } = await client.cluster.memberList();
    return members.flatMap((m) => m.clientUrls);
  } catch (error) {
    throw new Error(`failed to fetch endpoints from etcd cluster member list: ${await errorText(error)}`, { cause: error });
  }
}

async function health(cli: Cli, endpoint: string): Promise<EndpointHealth> {
  const { PermissionDeniedError } = await import('../../errors.js');
  const client = await cli.client([endpoint]);
  const start = process.hrtime.bigint();
  const result: EndpointHealth = { endpoint, health: false, took: '', error: '' };
  try {
    await client.get('health');
    result.health = true;
  } catch (error) {
    // Permission denied still proves the request went through consensus.
    if (error instanceof PermissionDeniedError) result.health = true;
    else result.error = await errorText(error);
  }
  result.took = goDuration(process.hrtime.bigint() - start);
  if (result.health) {
    try {
      const { alarms } = await client.maintenance.alarms();
      if (alarms.length > 0) {
        result.health = false;
        result.error = 'Active Alarm(s): ' + alarms.map((a) => `${a.alarm.toUpperCase()} `).join('');
      }
    } catch {
      result.health = false;
      result.error = 'Unable to fetch the alarm list';
    }
  }
  return result;
}

/** Registers `endpoint health|status|hashkv`. */
export function register(program: Command): void {
  const endpoint = program.command('endpoint').description('Endpoint related commands');
  const clusterFlag = 'use all endpoints from the cluster member list';
  endpoint
    .command('health')
    .description('Checks the healthiness of endpoints specified in `--endpoints` flag')
    .option('--cluster', clusterFlag)
    .action(
      action<{ cluster?: boolean }>(async (cli, _args, flags) => {
        const printer = await cli.printer();
        const endpoints = await targetEndpoints(cli, flags.cluster);
        const list = await Promise.all(endpoints.map((e) => health(cli, e)));
        printer.endpointHealth(list);
        if (list.some((h) => h.error !== '')) throw new Error('unhealthy cluster');
      }),
    );
  endpoint
    .command('status')
    .description('Prints out the status of endpoints specified in `--endpoints` flag')
    .addHelpText('after', '\nWhen --write-out is set to simple, this command prints out comma-separated status lists for each endpoint.\nThe items in the lists are endpoint, ID, version, db size, is leader, is learner, raft term, raft index, raft applied index, errors.')
    .option('--cluster', clusterFlag)
    .action(
      action<{ cluster?: boolean }>(async (cli, _args, flags) => {
        const printer = await cli.printer();
        const endpoints = await targetEndpoints(cli, flags.cluster);
        const client = await cli.client();
        const list: EndpointStatus[] = [];
        let failed = false;
        for (const e of endpoints) {
          try {
            list.push({ endpoint: e, status: await client.maintenance.status(e) });
          } catch (error) {
            failed = true;
            process.stderr.write(`Failed to get the status of endpoint ${e} (${await errorText(error)})\n`);
          }
        }
        printer.endpointStatus(list);
        if (failed) process.exitCode = 1;
      }),
    );
  endpoint
    .command('hashkv')
    .description('Prints the KV history hash for each endpoint in --endpoints')
    .option('--cluster', clusterFlag)
    .option('--rev <revision>', 'maximum revision to hash (default: all revisions)', '0')
    .action(
      action<{ cluster?: boolean; rev: string }>(async (cli, _args, flags) => {
        const printer = await cli.printer();
        const endpoints = await targetEndpoints(cli, flags.cluster);
        const client = await cli.client();
        const list: EndpointHashKV[] = [];
        let failure: unknown;
        for (const e of endpoints) {
          try {
            list.push({ endpoint: e, ...(await client.maintenance.hashKV(e, BigInt(flags.rev))) });
          } catch (error) {
            failure = error;
            process.stderr.write(`Failed to get the hash of endpoint ${e} (${await errorText(error)})\n`);
          }
        }
        printer.endpointHashKV(list);
        if (failure !== undefined) throw failure;
      }),
    );
}
