import { type CompactResponse, KVBase, type Op, type OpResponse, OrderingKV, OrderingViolationError, type ResponseOf, switchEndpointOnViolation } from '../../src/index.js';

// OrderingKV's bookkeeping against a KV that answers at scripted revisions (the integration test
// has the real stale member).

class ScriptedKV extends KVBase {
  readonly sent: Array<Op['type']> = [];
  constructor(private readonly revisions: bigint[]) {
    super();
  }
  async do<T extends Op>(operation: T): Promise<ResponseOf<T>> {
    this.sent.push(operation.type);
    const revision = this.revisions.shift();
    if (revision === undefined) throw new Error('no scripted answer left');
    const header = { clusterId: 0n, memberId: 0n, revision, raftTerm: 0n };
    const answers: Record<Op['type'], OpResponse> = {
      get: { type: 'get', header, kvs: [], more: false, count: 0n },
      put: { type: 'put', header, prevKv: undefined },
      delete: { type: 'delete', header, deleted: 0n, prevKvs: [] },
      txn: { type: 'txn', header, succeeded: true, responses: [] },
    };
    return answers[operation.type] as ResponseOf<T>;
  }
  async compact(): Promise<CompactResponse> {
    throw new Error('not scripted');
  }
}

it('checks gets and txns against the newest revision seen, and lets writes raise it unchecked', async () => {
  const kv = new ScriptedKV([5n, 9n, 7n, 8n, 4n]);
  const ordered = new OrderingKV(kv);
  await ordered.get('k');
  await ordered.put('k', 'v'); // raises the revision to 9
  await expect(ordered.get('k')).rejects.toMatchObject({ revision: 7n, previousRevision: 9n });
  await expect(ordered.txn().commit()).rejects.toBeInstanceOf(OrderingViolationError);
  await ordered.delete('k'); // a write at 4 is not checked, and does not lower it
  expect(ordered.revision).toBe(9n);
});

it('sends the operation again while the handler returns, counting the attempts', async () => {
  const kv = new ScriptedKV([10n, 3n, 4n, 10n]);
  const attempts: number[] = [];
  const ordered = new OrderingKV(kv, ({ attempt }) => void attempts.push(attempt));
  await ordered.get('k');
  expect((await ordered.get('k')).header.revision).toBe(10n);
  expect(attempts).toEqual([1, 2]);
  expect(kv.sent).toEqual(['get', 'get', 'get', 'get']);
});

it('gives up after 5 stale answers per endpoint with switchEndpointOnViolation', async () => {
  const kv = new ScriptedKV([10n, ...Array<bigint>(11).fill(1n)]);
  const ordered = new OrderingKV(kv, switchEndpointOnViolation({ endpoints: ['a:1', 'b:2'] }));
  await ordered.get('k');
  await expect(ordered.get('k')).rejects.toBeInstanceOf(OrderingViolationError);
  expect(kv.sent).toHaveLength(12); // the first read, then 10 retried stale answers and the 11th that fails
});
