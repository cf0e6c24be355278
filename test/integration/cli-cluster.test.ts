import { type EtcdCluster, startCluster } from '../harness/index.js';
import { type CliResult, etcdctl as referenceEtcdctl, niceEtcd } from './cli-run.js';

// The cluster commands on a 3-member cluster, beside etcdctl: member list, endpoint --cluster,
// defrag, move-leader, and a learner added, promoted, updated and removed with nice-etcd.
let cluster: EtcdCluster;
beforeAll(async () => {
  cluster = await startCluster(3);
});
afterAll(async () => {
  await cluster?.destroy();
});

/** nice-etcd against the whole cluster (or one member), like etcdctl with the same endpoints. */
function cli(args: string[], endpoints = cluster.members.map((m) => m.clientUrl).join(',')): Promise<CliResult> {
  return niceEtcd(undefined, [`--endpoints=${endpoints}`, ...args]);
}

/** etcdctl 3.5.16 with the same endpoints; its standard output as text. */
async function etcdctl(args: string[], endpoints = cluster.members.map((m) => m.clientUrl).join(',')) {
  const result = await referenceEtcdctl(cluster.members[0]!, [`--endpoints=${endpoints}`, ...args]);
  return { ...result, stdout: result.stdout.toString() };
}

/** Repeats a membership change while etcd refuses it for a reason that passes (a member just started, a learner catching up). */
async function retried(args: string[], passing: RegExp): Promise<CliResult> {
  for (let attempt = 0; ; attempt++) {
    const result = await cli(args);
    if (result.code === 0 || attempt >= 60 || !passing.test(result.stderr)) return result;
    await new Promise((r) => setTimeout(r, 500));
  }
}

it('lists members as etcdctl does', async () => {
  const one = cluster.members[0]!.clientUrl;
  for (const format of [[], ['-w', 'json'], ['-w', 'json', '--hex'], ['-w', 'fields']]) {
    const [go, ts] = [await etcdctl(['member', 'list', ...format], one), await cli(['member', 'list', ...format], one)];
    expect(ts.stdout.toString()).toBe(go.stdout);
    expect(ts.stdout.toString().length).toBeGreaterThan(0);
  }
  const table = await cli(['member', 'list', '-w', 'table'], one);
  expect(table.stdout.toString()).toContain('IS LEARNER');
});

it('prints status, hashes and health of every member with --cluster as etcdctl does', async () => {
  for (const args of [['endpoint', 'status', '--cluster'], ['endpoint', 'hashkv', '--cluster'], ['endpoint', 'hashkv', '--cluster', '-w', 'json']]) {
    const [go, ts] = [await etcdctl(args), await cli(args)];
    expect({ args, out: ts.stdout.toString() }).toEqual({ args, out: go.stdout });
    expect(ts.stdout.toString().trimEnd().split('\n').length).toBe(args.includes('json') ? 1 : 3);
  }
  // etcdctl checks health in parallel and prints in the order the answers come: compare as sets.
  const took = /took = [0-9.]+[µnm]?s/;
  const lines = (text: string) => text.trimEnd().split('\n').map((l) => l.replace(took, '<took>')).sort();
  const [go, ts] = [await etcdctl(['endpoint', 'health', '--cluster']), await cli(['endpoint', 'health', '--cluster'])];
  expect(lines(ts.stdout.toString())).toEqual(lines(go.stdout));
  expect(lines(ts.stdout.toString())).toHaveLength(3);
});

it('defragments every member with --cluster as etcdctl does', async () => {
  const [go, ts] = [await etcdctl(['defrag', '--cluster']), await cli(['defrag', '--cluster'])];
  expect(ts.code).toBe(0);
  expect(ts.stdout.toString()).toBe(go.stdout);
  expect(ts.stdout.toString()).toMatch(/^(Finished defragmenting etcd member\[http:\/\/127\.0\.0\.1:\d+\]\n){3}$/);
});

it('moves the leadership to another member', async () => {
  const leader = await cluster.leader();
  const status = (await cli(['endpoint', 'status', '-w', 'json'], leader.clientUrl)).stdout.toString();
  const leaderId = BigInt(/"member_id":(\d+)/.exec(status)![1]!);
  const members = (await cli(['member', 'list'], leader.clientUrl)).stdout.toString().trimEnd().split('\n');
  const target = members.map((line) => line.split(', ')[0]!).find((id) => BigInt(`0x${id}`) !== leaderId)!;
  const moved = await retried(['move-leader', target], /timed out|leader changed/);
  expect({ code: moved.code, stderr: moved.stderr }).toEqual({ code: 0, stderr: '' });
  expect(moved.stdout.toString()).toBe(`Leadership transferred from ${leaderId.toString(16)} to ${target}\n`);
  const after = await cli(['endpoint', 'status', '-w', 'json'], leader.clientUrl);
  expect(/"leader":(\d+)/.exec(after.stdout.toString())![1]).toBe(BigInt(`0x${target}`).toString());
});

it('adds a learner, promotes, updates and removes it', async () => {
  const name = `cli-learner-${process.pid}`;
  const joining = await cluster.prepareMember(name);
  const added = await retried(['member', 'add', name, `--peer-urls=${joining.peerUrl}`, '--learner'], /unhealthy/i);
  expect({ code: added.code, stderr: added.stderr }).toEqual({ code: 0, stderr: '' });
  const text = added.stdout.toString();
  const id = /^Member ([ 0-9a-f]{16}) added to cluster ([ 0-9a-f]{16})\n\n/.exec(text)![1]!.trim();
  expect(text).toContain(`ETCD_NAME="${name}"\n`);
  expect(text).toContain(`ETCD_INITIAL_ADVERTISE_PEER_URLS="${joining.peerUrl}"\nETCD_INITIAL_CLUSTER_STATE="existing"\n`);
  const initial = /ETCD_INITIAL_CLUSTER="([^"]+)"/.exec(text)![1]!;
  const learner = await joining.join(initial.split(',').map((entry) => ({ name: entry.split('=')[0]!, peerUrls: [entry.slice(entry.indexOf('=') + 1)] })));
  try {
    const list = (await cli(['member', 'list', '-w', 'json'])).stdout.toString();
    expect(list).toContain('"isLearner":true');
    const promoted = await retried(['member', 'promote', id], /not ready|learner/i);
    expect({ code: promoted.code, stderr: promoted.stderr }).toEqual({ code: 0, stderr: '' });
    expect(promoted.stdout.toString()).toMatch(new RegExp(`^Member +${id} promoted in cluster [ 0-9a-f]{16}\\n$`));
    const updated = await cli(['member', 'update', id, `--peer-urls=${joining.peerUrl}`]);
    expect(updated.stdout.toString()).toMatch(new RegExp(`^Member +${id} updated in cluster [ 0-9a-f]{16}\\n$`));
    const removed = await retried(['member', 'remove', id], /unhealthy/i);
    expect(removed.stdout.toString()).toMatch(new RegExp(`^Member +${id} removed from cluster [ 0-9a-f]{16}\\n$`));
    const missing = await cli(['member', 'remove', id]);
    expect({ code: missing.code, stderr: missing.stderr }).toEqual({ code: 1, stderr: 'Error: etcdserver: member not found\n' });
  } finally {
    cluster.members.splice(cluster.members.indexOf(learner), 1);
    await learner.destroy();
  }
}, 120_000);
