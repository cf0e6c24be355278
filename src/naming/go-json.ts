// JSON as Go's encoding/json writes it, so that values nice-etcd stores are byte for byte the
// ones a Go program stores: object keys sorted (as Go marshals a map, e.g. an interface{}
// holding decoded JSON) and <, >, &, U+2028 and U+2029 escaped (Go's HTML-safe default).

const goEscapes: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) sorted[key] = sortKeys((value as Record<string, unknown>)[key]);
  return sorted;
}

/** `value` as Go's json.Marshal writes the same data held in maps and slices. @internal */
export function goJson(value: unknown): string {
  return JSON.stringify(sortKeys(value)).replace(/[<>&\u2028\u2029]/g, (c) => goEscapes[c]);
}
