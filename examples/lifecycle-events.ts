// Alerting on what the client does: its lifecycle events feed a small health view (which
// endpoints are connected, which leases were lost), and its log goes to a logger of ours. Here a
// lease kept alive by one client is revoked by another, as an operator or a buggy peer might:
// the keep-alive ends, the `keepAliveLost` event says which lease and why, and the log has a
// warning line about it. A Prometheus or OpenTelemetry setup plugs in the same way (README:
// Observability).
//
// Runs against ETCD_ENDPOINTS (default 127.0.0.1:2379), e.g. `npx tsx examples/lifecycle-events.ts`
// (`bash scripts/examples` starts a throwaway etcd and runs every example). Exits non-zero if an
// event or the log line did not come.
import { strict as assert } from 'node:assert';
import { Client, type Logger } from 'nice-etcd';

/** What a dashboard would show: connected endpoints, and alerts raised from events. */
const health = { connected: new Set<string>(), alerts: [] as string[] };
/** The client's log lines (a real service would hand the client its pino or winston logger). */
const lines: string[] = [];
const logger: Logger = {
  debug: () => {},
  info: (message, fields) => lines.push(`info ${message} ${JSON.stringify(fields ?? {})}`),
  warn: (message, fields) => lines.push(`warn ${message} ${JSON.stringify(fields ?? {})}`),
  error: (message, fields) => lines.push(`error ${message} ${JSON.stringify(fields ?? {})}`),
};

async function main(): Promise<void> {
  const endpoints = (process.env.ETCD_ENDPOINTS ?? '127.0.0.1:2379').split(',');
  await using client = new Client({ endpoints, logger });
  client.on('connected', ({ endpoint }) => health.connected.add(endpoint));
  client.on('disconnected', ({ endpoint, cause }) => {
    health.connected.delete(endpoint);
    health.alerts.push(`etcd ${endpoint} disconnected: ${cause}`);
  });
  client.on('keepAliveLost', ({ id, reason, cause }) => health.alerts.push(`lease ${id.toString(16)} ${reason}: ${cause.message}`));

  await client.put('examples/events/hello', 'world');
  assert.equal(health.connected.size, 1, 'the first call connects: one connected endpoint');
  console.log(`events: connected to ${[...health.connected].join(', ')}`);

  // A lease this service keeps alive, revoked behind its back by another client.
  const lease = await client.lease.grant(10);
  const keepAlive = client.lease.keepAlive(lease.id);
  await using other = new Client({ endpoints });
  await other.lease.revoke(lease.id);
  assert.equal(await keepAlive.ended, 'expired', 'the keep-alive learns that the lease is gone');
  assert.deepEqual(health.alerts, [`lease ${lease.id.toString(16)} expired: ${keepAlive.cause?.message}`]);
  assert.ok(lines.some((line) => line.startsWith('warn keep-alive ended') && line.includes(`"lease":"${lease.id}"`)), 'a warning was logged');
  console.log(`events: alert raised: ${health.alerts[0]}`);
  console.log(`events: logged: ${lines.find((line) => line.startsWith('warn'))}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
