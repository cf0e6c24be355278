// Go's formatting, as etcdctl prints with it: %q, %x, %016x, humanize.Bytes, time.Duration and
// encoding/json (omitempty fields, []byte as base64, uint64 as exact numbers).

/** A byte string as Go's `%q` prints it (strconv.Quote: escapes, \x for invalid UTF-8). */
export function goQuote(value: Uint8Array | string): string {
  const bytes = typeof value === 'string' ? Buffer.from(value) : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  let out = '"';
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b < 0x80) {
      out += quoteAscii(b);
      i += 1;
      continue;
    }
    const width = utf8Width(bytes, i);
    if (width === 0) {
      out += `\\x${hex2(b)}`;
      i += 1;
      continue;
    }
    const char = bytes.subarray(i, i + width).toString('utf8');
    const code = char.codePointAt(0)!;
    out += isPrintable(code) ? char : code > 0xffff ? `\\U${code.toString(16).padStart(8, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
    i += width;
  }
  return out + '"';
}

const asciiEscapes: Record<number, string> = { 7: '\\a', 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r', 34: '\\"', 92: '\\\\' };

function quoteAscii(b: number): string {
  const escaped = asciiEscapes[b];
  if (escaped) return escaped;
  if (b < 0x20 || b === 0x7f) return `\\x${hex2(b)}`;
  return String.fromCharCode(b);
}

/** Length of the valid UTF-8 sequence at `i`, or 0. */
function utf8Width(bytes: Uint8Array, i: number): number {
  const b = bytes[i]!;
  const width = b >= 0xf0 && b <= 0xf4 ? 4 : b >= 0xe0 ? 3 : b >= 0xc2 && b < 0xe0 ? 2 : 0;
  if (width === 0 || i + width > bytes.length) return 0;
  for (let k = 1; k < width; k++) if ((bytes[i + k]! & 0xc0) !== 0x80) return 0;
  const code = Buffer.from(bytes.subarray(i, i + width)).toString('utf8').codePointAt(0)!;
  if (code === 0xfffd) return 0; // overlong or surrogate: Node replaced it
  return width;
}

function isPrintable(code: number): boolean {
  return /[\p{L}\p{M}\p{N}\p{P}\p{S}\u0020]/u.test(String.fromCodePoint(code));
}

function hex2(b: number): string {
  return b.toString(16).padStart(2, '0');
}

/** Go's `%x` of an unsigned id. */
export function hex(id: bigint): string {
  return BigInt.asUintN(64, id).toString(16);
}

/** Go's `%016x` of a lease id. */
export function hex16(id: bigint): string {
  return hex(id).padStart(16, '0');
}

/** Go's `%16x` (space-padded) of a member id. */
export function hexSpace16(id: bigint): string {
  return hex(id).padStart(16, ' ');
}

/** etcdctl's `--hex` form of a byte string: `\x` before every byte's two hex digits. */
export function hexBytes(value: Uint8Array): string {
  let out = '';
  for (const b of value) out += `\\x${hex2(b)}`;
  return out;
}

/** go-humanize's `Bytes`: SI units, one decimal below 10 (`29 kB`, `1.2 MB`). */
export function humanizeBytes(size: bigint): string {
  const n = Number(size);
  if (n < 10) return `${n} B`;
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  const e = Math.floor(Math.log(n) / Math.log(1000));
  const value = Math.floor((n / 1000 ** e) * 10 + 0.5) / 10;
  if (value < 10) return `${value.toFixed(1)} ${units[e]}`;
  // Go's %.0f rounds an exact half to even (20.5 -> 20); toFixed would round it up.
  const floor = Math.floor(value);
  const whole = value - floor === 0.5 ? (floor % 2 === 0 ? floor : floor + 1) : Math.round(value);
  return `${whole} ${units[e]}`;
}

/** Go's `time.Duration.String()` of a duration in nanoseconds (`9.399372ms`, `1.5s`). */
export function goDuration(ns: bigint): string {
  if (ns === 0n) return '0s';
  const sign = ns < 0n ? '-' : '';
  const abs = ns < 0n ? -ns : ns;
  const fraction = (value: bigint, unit: bigint, digits: number) => {
    const whole = value / unit;
    const rest = (value % unit).toString().padStart(digits, '0').replace(/0+$/, '');
    return rest ? `${whole}.${rest}` : `${whole}`;
  };
  if (abs < 1000n) return `${sign}${abs}ns`;
  if (abs < 1_000_000n) return `${sign}${fraction(abs, 1000n, 3)}µs`;
  if (abs < 1_000_000_000n) return `${sign}${fraction(abs, 1_000_000n, 6)}ms`;
  let seconds = abs;
  let out = '';
  const h = seconds / 3_600_000_000_000n;
  seconds -= h * 3_600_000_000_000n;
  const m = seconds / 60_000_000_000n;
  seconds -= m * 60_000_000_000n;
  if (h > 0n) out += `${h}h`;
  if (h > 0n || m > 0n) out += `${m}m`;
  return `${sign}${out}${fraction(seconds, 1_000_000_000n, 9)}s`;
}

/** A JSON value already serialized, or undefined to leave the field out (Go's `omitempty`). */
export type Json = string | undefined;

/** A JSON object of the fields that are not left out, in the given order. */
export function jsonObject(fields: Array<[string, Json]>): string {
  return `{${fields.filter(([, v]) => v !== undefined).map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;
}

/** A number field, left out when zero (`omitempty`); bigints are printed exactly. */
export function jsonNumber(value: bigint | number): Json {
  return value === 0 || value === 0n ? undefined : String(value);
}

/** A uint64 field: the bigint as unsigned, left out when zero. */
export function jsonUint(value: bigint): Json {
  return value === 0n ? undefined : BigInt.asUintN(64, value).toString();
}

/** A `[]byte` field: base64, left out when empty. */
export function jsonBytes(value: Uint8Array | undefined): Json {
  return value === undefined || value.length === 0 ? undefined : `"${Buffer.from(value).toString('base64')}"`;
}

/** A string field as Go's encoding/json writes it (`<`, `>`, `&` escaped), left out when empty. */
export function jsonString(value: string, omitEmpty = true): Json {
  if (omitEmpty && value === '') return undefined;
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A bool field, left out when false. */
export function jsonBool(value: boolean): Json {
  return value ? 'true' : undefined;
}

/** An array field, left out when empty. */
export function jsonArray(items: string[]): Json {
  return items.length === 0 ? undefined : `[${items.join(',')}]`;
}
