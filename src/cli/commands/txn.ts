import { Command } from 'commander';
import type { CompareOperator, Condition, Op } from '../../index.js';
import { action } from '../context.js';
import { UsageError } from '../usage-error.js';
import { delCommand, delRequest, getCommand, getRequest, leaseId, putCommand, putRequest, type DelFlags, type GetFlags, type PutFlags } from './kv.js';

/**
 * Splits a request line into arguments as etcdctl's argify does: words, "double quoted"
 * strings (Go escapes) and 'single quoted' strings.
 */
export function argify(line: string): string[] {
  const words = line.match(/"(?:[^"\\]|\\.)*"|'[^']*'|[^'"\s]\S*[^'"\s]?/g) ?? [];
  return words.map((word) => {
    if (word.startsWith("'")) return word.slice(1, -1);
    if (word.startsWith('"')) return scanQuoted(word, 0).value;
    return word;
  });
}

const goEscapes: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"', "'": "'" };

/** Reads a Go-quoted string ("...", with Go's escapes, or `raw`) starting at `at`. */
export function scanQuoted(text: string, at: number): { value: string; end: number } {
  const quote = text[at];
  if (quote === '`') {
    const close = text.indexOf('`', at + 1);
    if (close < 0) throw new UsageError(`unterminated raw string: ${text}`);
    return { value: text.slice(at + 1, close), end: close + 1 };
  }
  if (quote !== '"') throw new UsageError(`expected a quoted string at "${text.slice(at)}"`);
  let value = '';
  for (let i = at + 1; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') return { value, end: i + 1 };
    if (c !== '\\') {
      value += c;
      continue;
    }
    const e = text[++i] ?? '';
    if (goEscapes[e] !== undefined) value += goEscapes[e];
    else if (e === 'x' || e === 'u' || e === 'U') {
      const digits = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const hex = text.slice(i + 1, i + 1 + digits);
      if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== digits) throw new UsageError(`invalid escape in ${text}`);
      value += e === 'x' ? String.fromCharCode(parseInt(hex, 16)) : String.fromCodePoint(parseInt(hex, 16));
      i += digits;
    } else if (/[0-7]/.test(e)) {
      value += String.fromCharCode(parseInt(text.slice(i, i + 3), 8));
      i += 2;
    } else throw new UsageError(`invalid escape in ${text}`);
  }
  throw new UsageError(`unterminated string: ${text}`);
}

type CompareModule = typeof import('../../index.js')['compare'];

/** One compare line: `target("key") op "value"`, etcdctl's syntax. */
export function parseCompare(line: string, compare: CompareModule): Condition {
  const paren = line.indexOf('(');
  if (paren < 0) throw new UsageError(`malformed comparison: ${line}`);
  const target = line.slice(0, paren);
  let key: string, operator: string, value: string;
  try {
    const k = scanQuoted(line, paren + 1);
    key = k.value;
    const rest = /^\)\s+(\S+)\s+/.exec(line.slice(k.end));
    if (!rest) throw new UsageError('');
    operator = rest[1]!;
    value = scanQuoted(line, k.end + rest[0].length).value;
  } catch {
    throw new UsageError(`malformed comparison: ${line}`);
  }
  if (!['=', '!=', '<', '>'].includes(operator)) throw new UsageError(`Unknown result op "${operator}"`);
  const op = operator as CompareOperator;
  const int = () => {
    if (!/^[+-]?\d+$/.test(value)) throw new UsageError(`invalid txn compare request: ${line}`);
    return BigInt(value);
  };
  switch (target) {
    case 'ver':
    case 'version':
      return compare.version(key, op, int());
    case 'c':
    case 'create':
      return compare.createRevision(key, op, int());
    case 'm':
    case 'mod':
      return compare.modRevision(key, op, int());
    case 'val':
    case 'value':
      return compare.value(key, op, value);
    case 'lease':
      return compare.lease(key, op, leaseId(value));
    default:
      throw new UsageError(`malformed comparison: ${line} (unknown target ${target})`);
  }
}

type OpModule = typeof import('../../index.js')['op'];

/** One request line: `get ...`, `put ...` or `del ...` with the flags of those commands. */
export function parseRequest(line: string, op: OpModule): Op {
  const args = argify(line);
  if (args.length < 2) throw new UsageError(`invalid txn compare request: ${line}`);
  let result: Op | undefined;
  const parser = new Command().exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  getCommand(parser).action((_a, flags: GetFlags, command: Command) => {
    const { key, options } = getRequest(command.args, { ...flags, printValueOnly: false, countOnly: false }, 'simple');
    result = op.get(key, { ...options, countOnly: flags.countOnly === true });
  });
  putCommand(parser).action((_a, flags: PutFlags, command: Command) => {
    const { key, value, options } = putRequest(command.args, flags, () => Buffer.alloc(0));
    result = op.put(key, value, options);
  });
  delCommand(parser).action((_a, flags: DelFlags, command: Command) => {
    const { key, options } = delRequest(command.args, flags);
    result = op.delete(key, options);
  });
  try {
    parser.parse(args, { from: 'user' });
  } catch {
    throw new UsageError(`invalid txn request: ${line}`);
  }
  if (!result) throw new UsageError(`invalid txn request: ${line}`);
  return result;
}

/** Registers `txn`. */
export function register(program: Command): void {
  program
    .command('txn')
    .usage('[options]')
    .description('Txn processes all the requests in one transaction')
    .addHelpText(
      'after',
      `
Standard input holds three sections, each ended by an empty line: compares, then the requests
run when all compares hold, then those run otherwise. For example:
  mod("key1") > "0"
  value("key2") = "x"

  put key1 "overwrote-key1"

  get key1
  del key2

Compares: value|val, version|ver, create|c, mod|m, lease ("key") =|!=|<|> "value".
Requests: get, put and del with their flags.`,
    )
    .argument('[args...]')
    .option('-i, --interactive', 'Input transaction in interactive mode')
    .action(
      action<{ interactive?: boolean }>(async (cli, args, flags) => {
        if (args.length !== 0) throw new UsageError('txn command does not accept argument');
        const [{ compare }, { op }, { createInterface }] = await Promise.all([import('../../compare.js'), import('../../op.js'), import('node:readline')]);
        const client = await cli.client();
        const printer = await cli.printer();
        const lines = createInterface({ input: process.stdin, crlfDelay: Infinity })[Symbol.asyncIterator]();
        // A section ends at an empty line (or at the end of the input).
        const section = async (prompt: string): Promise<string[]> => {
          if (flags.interactive) process.stdout.write(`${prompt}\n`);
          const found: string[] = [];
          for (;;) {
            const next = await lines.next();
            const line = next.done ? '' : next.value.trim();
            if (line === '') return found;
            found.push(line);
          }
        };
        const compares = (await section('compares:')).map((line) => parseCompare(line, compare));
        const success = (await section('success requests (get, put, del):')).map((line) => parseRequest(line, op));
        const failure = (await section('failure requests (get, put, del):')).map((line) => parseRequest(line, op));
        await lines.return?.();
        printer.txn(await client.txn().if(...compares).then(...success).else(...failure).commit());
      }),
    );
}
