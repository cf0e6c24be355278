import { compare, op } from '../../src/index.js';
import { bashCompletion } from '../../src/cli/commands/completion.js';
import { argify, parseCompare, parseRequest, scanQuoted } from '../../src/cli/commands/txn.js';
import { watchArgs } from '../../src/cli/commands/watch.js';
import { parseDuration } from '../../src/cli/context.js';
import { goDuration, goQuote, hex16, hexBytes, hexSpace16, humanizeBytes, jsonString } from '../../src/cli/format.js';
import * as auth from '../../src/cli/commands/auth.js';
import * as compaction from '../../src/cli/commands/compaction.js';
import * as completion from '../../src/cli/commands/completion.js';
import * as elect from '../../src/cli/commands/elect.js';
import * as endpoint from '../../src/cli/commands/endpoint.js';
import * as kv from '../../src/cli/commands/kv.js';
import * as lease from '../../src/cli/commands/lease.js';
import * as lock from '../../src/cli/commands/lock.js';
import * as maintenance from '../../src/cli/commands/maintenance.js';
import * as member from '../../src/cli/commands/member.js';
import * as txn from '../../src/cli/commands/txn.js';
import * as version from '../../src/cli/commands/version.js';
import * as watch from '../../src/cli/commands/watch.js';
import { rootCommand } from '../../src/cli/program.js';
import { UsageError } from '../../src/cli/usage-error.js';

// The CLI's pure parts: Go's formatting as etcdctl prints with it, and etcdctl's input syntax.
// (The integration tests compare whole outputs with etcdctl's.)

describe("Go's formatting", () => {
  it('quotes as %q does', () => {
    expect(goQuote('plain')).toBe('"plain"');
    expect(goQuote('say "hi"\\\n\t')).toBe('"say \\"hi\\"\\\\\\n\\t"');
    expect(goQuote(Buffer.from([0, 0x7f, 0xff, 0x41]))).toBe('"\\x00\\x7f\\xffA"');
    expect(goQuote('été ✓')).toBe('"été ✓"');
    expect(goQuote('\u200b')).toBe('"\\u200b"');
  });

  it('prints ids as %x, %016x and %16x, uint64 included', () => {
    expect(hex16(0x694d7a9c1c0f6f0an)).toBe('694d7a9c1c0f6f0a');
    expect(hex16(0x12n)).toBe('0000000000000012');
    expect(hexSpace16(0xabcn)).toBe('             abc');
    expect(hex16(-1n)).toBe('ffffffffffffffff');
  });

  it('prints bytes as --hex does', () => {
    expect(hexBytes(Buffer.from('a\n'))).toBe('\\x61\\x0a');
  });

  it('prints sizes as go-humanize does', () => {
    expect(humanizeBytes(9n)).toBe('9 B');
    expect(humanizeBytes(28672n)).toBe('29 kB');
    expect(humanizeBytes(1_234_567n)).toBe('1.2 MB');
    expect(humanizeBytes(20_480n)).toBe('20 kB');
  });

  it('prints durations as time.Duration does', () => {
    expect(goDuration(9_399_372n)).toBe('9.399372ms');
    expect(goDuration(1_500_000_000n)).toBe('1.5s');
    expect(goDuration(90_000_000_000n)).toBe('1m30s');
    expect(goDuration(850n)).toBe('850ns');
    expect(goDuration(12_000n)).toBe('12µs');
  });

  it("escapes strings as Go's encoding/json does", () => {
    expect(jsonString('<a&b>')).toBe('"\\u003ca\\u0026b\\u003e"');
    expect(jsonString('')).toBeUndefined();
  });

  it("reads Go's durations and refuses others with a UsageError", () => {
    expect(parseDuration('2s', 'dial-timeout')).toBe(2000);
    expect(parseDuration('1m30s', 'x')).toBe(90_000);
    expect(parseDuration('250ms', 'x')).toBe(250);
    expect(() => parseDuration('5', 'command-timeout')).toThrow(UsageError);
    expect(() => parseDuration('2 s', 'x')).toThrow(/invalid duration/);
  });
});

describe("etcdctl's txn syntax", () => {
  it('splits request lines into words and quoted strings', () => {
    expect(argify(`put k "a b\\n" 'c d' --prev-kv`)).toEqual(['put', 'k', 'a b\n', 'c d', '--prev-kv']);
    expect(scanQuoted('"\\x41\\u00e9"', 0).value).toBe('Aé');
  });

  it('reads compares as etcdctl does', () => {
    expect(parseCompare('value("k") = "v"', compare)).toEqual(compare.value('k', '=', 'v'));
    expect(parseCompare('mod("k") > "5"', compare)).toEqual(compare.modRevision('k', '>', 5n));
    expect(parseCompare('ver("k") != "0"', compare)).toEqual(compare.version('k', '!=', 0n));
    expect(parseCompare('c("a b") < "7"', compare)).toEqual(compare.createRevision('a b', '<', 7n));
    expect(parseCompare('lease("k") = "1a"', compare)).toEqual(compare.lease('k', '=', 0x1an));
    for (const bad of ['k = v', 'value("k) = "v"', 'size("k") = "1"', 'ver("k") = "x"', 'value("k") ~ "v"']) {
      expect(() => parseCompare(bad, compare)).toThrow(UsageError);
    }
  });

  it("reads requests with get, put and del's own flags", () => {
    expect(parseRequest('put k v --prev-kv --lease=1a', op)).toEqual(op.put('k', 'v', { prevKv: true, lease: 0x1an }));
    expect(parseRequest('get k --prefix --limit 2 --keys-only', op)).toEqual(op.get('k', { prefix: true, limit: 2n, keysOnly: true }));
    expect(parseRequest('del a c', op)).toEqual(op.delete('a', { end: 'c' }));
    for (const bad of ['frob k', 'get', 'put k', 'get k --nope']) expect(() => parseRequest(bad, op)).toThrow(UsageError);
  });
});

describe('watch arguments', () => {
  it('takes the command after -- from the raw command line', () => {
    const raw = ['node', 'nice-etcd', 'watch', 'k', '--prefix', '--', 'echo', 'hi'];
    expect(watchArgs(raw, ['k', 'echo', 'hi'], {})).toEqual({ range: ['k'], exec: ['echo', 'hi'] });
    expect(watchArgs(['node', 'x', 'watch', 'a', 'b'], ['a', 'b'], {})).toEqual({ range: ['a', 'b'], exec: [] });
  });

  it('takes the key from ETCDCTL_WATCH_KEY and refuses conflicts', () => {
    expect(watchArgs(['n', 'x', 'watch'], [], { ETCDCTL_WATCH_KEY: 'k', ETCDCTL_WATCH_RANGE_END: 'z' })).toEqual({ range: ['k', 'z'], exec: [] });
    expect(() => watchArgs(['n', 'x', 'watch', 'k'], ['k'], { ETCDCTL_WATCH_KEY: 'k' })).toThrow(/conflicting environment key/);
    expect(() => watchArgs(['n', 'x', 'watch', 'k', '--'], ['k'], {})).toThrow(/no commands/);
    expect(() => watchArgs(['n', 'x', 'watch'], [], {})).toThrow(/bad number of arguments/);
  });
});

it('completes every command and subcommand in bash', () => {
  // program() loads the command modules with import(), which jest's CommonJS runtime lacks: the
  // tree is built here from the same modules (the CLI tests run the real one as a subprocess).
  const root = rootCommand();
  for (const module of [kv, txn, compaction, maintenance, endpoint, watch, version, lease, member, lock, elect, auth, completion]) module.register(root);
  const script = bashCompletion(root);
  expect(script).toContain('"") words="get put del txn compaction');
  expect(script).toContain('"member") words="add remove update list promote');
  expect(script).toContain('"get") words="--consistency --order --sort-by --limit --prefix --from-key');
});
