import { Status } from 'nice-grpc-common';
import { resolveConfig } from '../../src/config.js';
import { methodDefaults } from '../../src/connection.js';
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

describe('per-method defaults of a client', () => {
  const config = resolveConfig({ endpoints: ['127.0.0.1:2379'], timeout: 1234, retry: { maxAttempts: 3 } });

  it('give unary calls the client timeout and retry what the table allows', () => {
    const kv = methodDefaults(methodPolicies.kv, config);
    expect(kv.range).toMatchObject({ timeout: 1234, retry: true, retryMaxAttempts: 2, retryableStatuses: [Status.UNAVAILABLE] });
    expect(kv.put).toMatchObject({ timeout: 1234, retry: true });
  });

  it('give streams and waits no timeout and no retry middleware', () => {
    expect(methodDefaults(methodPolicies.watch, config).watch).not.toHaveProperty('timeout');
    expect(methodDefaults(methodPolicies.watch, config).watch).toMatchObject({ retry: false });
    expect(methodDefaults(methodPolicies.lock, config).lock).not.toHaveProperty('timeout');
    expect(methodDefaults(methodPolicies.maintenance, config).snapshot).not.toHaveProperty('timeout');
  });

  it('turn retries off when maxAttempts is 1', () => {
    const once = resolveConfig({ endpoints: ['127.0.0.1:2379'], retry: { maxAttempts: 1 } });
    expect(methodDefaults(methodPolicies.kv, once).range).toMatchObject({ retry: false });
  });
});
