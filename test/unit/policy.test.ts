import { resolveConfig } from '../../src/config.js';
import { unaryPlans } from '../../src/middleware/unary.js';
import { type CallKind, type MethodPolicy, definitions, methodPolicies, methodPolicy } from '../../src/policy.js';

/** Every RPC of the generated definitions, with the kind its definition declares. */
const generated = Object.entries(definitions).flatMap(([service, definition]) =>
  Object.entries(definition.methods).map(([key, method]) => {
    const { requestStream, responseStream } = method as { requestStream: boolean; responseStream: boolean };
    const kind: CallKind = requestStream ? (responseStream ? 'bidiStream' : 'clientStream') : responseStream ? 'serverStream' : 'unary';
    return { service, key, path: `/${definition.fullName}/${method.name}`, kind };
  }),
);
const rows = Object.entries(methodPolicies).flatMap(([service, methods]) =>
  Object.entries(methods as Record<string, MethodPolicy>).map(([key, policy]) => ({ service, key, policy })),
);

describe('the method policy table', () => {
  it('classifies every generated RPC, and nothing else', () => {
    expect(rows.map((r) => `${r.service}.${r.key}`).sort()).toEqual(generated.map((g) => `${g.service}.${g.key}`).sort());
  });

  it.each(generated)('gives $path the call kind its definition declares', ({ path, kind }) => {
    expect(methodPolicy(path)?.kind).toBe(kind);
  });

  it('gives streams no default timeout and never retries them', () => {
    for (const { policy } of rows.filter((r) => r.policy.kind !== 'unary')) {
      expect(policy).toMatchObject({ timeout: 'none', retry: 'never', waitsForOthers: false });
    }
  });

  it('gives calls that wait for other clients no default timeout and never replays them', () => {
    const waiting = rows.filter((r) => r.policy.waitsForOthers);
    expect(waiting.map((r) => `${r.service}.${r.key}`).sort()).toEqual(['election.campaign', 'lock.lock']);
    for (const { policy } of waiting) expect(policy).toMatchObject({ timeout: 'none', retry: 'unsentOnly' });
  });

  it('never makes a write repeatable', () => {
    const writes = rows.filter((r) => r.policy.effect === 'write');
    expect(writes.length).toBeGreaterThan(0);
    for (const { policy } of writes) expect(policy.retry).not.toBe('repeatable');
  });

  it('retries reads and keeps sent KV writes, even a Txn, from being replayed', () => {
    expect(methodPolicy('/etcdserverpb.KV/Range')?.retry).toBe('repeatable');
    for (const write of ['Put', 'DeleteRange', 'Txn', 'Compact']) expect(methodPolicy(`/etcdserverpb.KV/${write}`)?.retry).toBe('unsentOnly');
  });

  it('knows no policy for an RPC the generated code does not have', () => {
    expect(methodPolicy('/etcdserverpb.KV/RangeStream')).toBeUndefined();
  });
});

describe('per-method plans of a client', () => {
  const config = resolveConfig({ endpoints: ['127.0.0.1:2379'], timeout: 1234, retry: { maxAttempts: 3 } });
  const plans = unaryPlans(config);

  it('give unary calls the client timeout, the retry policy of the table, and whether they write', () => {
    expect(plans.get('/etcdserverpb.KV/Range')).toEqual({ timeout: 1234, retry: 'repeatable', write: false });
    expect(plans.get('/etcdserverpb.KV/Put')).toEqual({ timeout: 1234, retry: 'unsentOnly', write: true });
    expect(plans.get('/etcdserverpb.Lease/LeaseRevoke')).toEqual({ timeout: 1234, retry: 'repeatable', write: false });
  });

  it('give calls that wait for other clients no timeout', () => {
    expect(plans.get('/v3lockpb.Lock/Lock')).toEqual({ timeout: undefined, retry: 'unsentOnly', write: true });
    expect(plans.get('/v3electionpb.Election/Campaign')?.timeout).toBeUndefined();
  });

  it('give streams no timeout and no retries', () => {
    expect(plans.get('/etcdserverpb.Watch/Watch')).toEqual({ timeout: undefined, retry: 'never', write: false });
    expect(plans.get('/etcdserverpb.Maintenance/Snapshot')).toEqual({ timeout: undefined, retry: 'never', write: false });
  });

  it('turn retries off when maxAttempts is 1', () => {
    const once = unaryPlans(resolveConfig({ endpoints: ['127.0.0.1:2379'], retry: { maxAttempts: 1 } }));
    expect(once.get('/etcdserverpb.KV/Range')?.retry).toBe('never');
  });
});
