// Copies etcd's API protos into the output folder and normalises them for buf + ts-proto:
// strips gogoproto, google.api.http, openapiv2 and (3.6+) versionpb annotations, drops
// go_package, and rewrites imports to paths relative to the output folder. Comments are left
// as they are. Unknown imports are an error, so a new dependency in a newer etcd is noticed
// instead of silently breaking generation. Nothing is written unless every file normalises.
//
//   node scripts/sync-protos.mjs <etcd source tree> <output folder>
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Source path in an etcd tree → path in the output folder. Only these files are imported. */
const files = {
  'api/etcdserverpb/rpc.proto': 'etcdserverpb/rpc.proto',
  'api/mvccpb/kv.proto': 'mvccpb/kv.proto',
  'api/authpb/auth.proto': 'authpb/auth.proto',
  'server/etcdserver/api/v3lock/v3lockpb/v3lock.proto': 'v3lockpb/v3lock.proto',
  'server/etcdserver/api/v3election/v3electionpb/v3election.proto': 'v3electionpb/v3election.proto',
};

/** Imports that carry only annotations: dropped together with the annotations. */
const annotationImports = new Set([
  'gogoproto/gogo.proto',
  'github.com/gogo/protobuf/gogoproto/gogo.proto',
  'google/api/annotations.proto',
  'protoc-gen-openapiv2/options/annotations.proto',
  'protoc-gen-swagger/options/annotations.proto',
  'etcd/api/versionpb/version.proto',
  'go.etcd.io/etcd/api/v3/versionpb/version.proto',
  'api/versionpb/version.proto',
  'versionpb/version.proto',
]);

/** Option names (the part in parentheses) that are annotations and are removed. */
const annotation = /^\(\s*(gogoproto|google\.api|grpc\.gateway|versionpb)\./;

/** Every spelling etcd has used to import one of our files → its path in the output folder. */
const rewrites = new Map();
for (const [from, to] of Object.entries(files)) {
  // Go module paths: go.etcd.io/etcd/api/v3/..., go.etcd.io/etcd/server/v3/...
  const goModule = from.replace(/^(api|server)\//, '$1/v3/');
  for (const spelling of [from, `etcd/${from}`, `go.etcd.io/etcd/${from}`, `go.etcd.io/etcd/${goModule}`, to]) {
    rewrites.set(spelling, to);
  }
}

const source = process.argv[2];
const out = process.argv[3];
if (!source || !out) {
  console.error('usage: node scripts/sync-protos.mjs <etcd source tree> <output folder>');
  process.exit(2);
}

/**
 * Splits `text` into code and non-code (comments, string literals), so that annotations are
 * only looked for in code and braces inside strings or comments are not counted.
 * Returns a copy of `text` of the same length with comments and strings blanked out.
 */
function maskNonCode(text) {
  let masked = '';
  for (let i = 0; i < text.length; ) {
    const c = text[i];
    let end = i + 1;
    if (c === '/' && text[i + 1] === '/') {
      end = text.indexOf('\n', i);
      if (end < 0) end = text.length;
    } else if (c === '/' && text[i + 1] === '*') {
      end = text.indexOf('*/', i + 2);
      end = end < 0 ? text.length : end + 2;
    } else if (c === '"' || c === "'") {
      end = i + 1;
      while (end < text.length && text[end] !== c && text[end] !== '\n') end += text[end] === '\\' ? 2 : 1;
      end = Math.min(end + 1, text.length);
      masked += c + text.slice(i + 1, end - 1).replace(/[^\n]/g, ' ') + (end - 1 > i ? text[end - 1] : '');
      i = end;
      continue;
    } else {
      masked += c;
      i = end;
      continue;
    }
    masked += text.slice(i, end).replace(/[^\n]/g, ' ');
    i = end;
  }
  return masked;
}

/** Index just past the statement that starts at `start` (`...;` or `... { ... }` [`;`]). */
function statementEnd(masked, start, name) {
  let depth = 0;
  for (let i = start; i < masked.length; i++) {
    const c = masked[i];
    if (c === '{') depth++;
    else if (c === '}') {
      depth--;
      if (depth === 0) {
        const semi = /^[ \t]*;/.exec(masked.slice(i + 1));
        return i + 1 + (semi ? semi[0].length : 0);
      }
      if (depth < 0) break;
    } else if (c === ';' && depth === 0) return i + 1;
  }
  throw new Error(`${name}: unterminated option statement at offset ${start}`);
}

/** Splits a field-option list at top-level commas (the masked text has no strings or comments). */
function splitOptions(maskedInner) {
  const parts = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i < maskedInner.length; i++) {
    const c = maskedInner[i];
    if (c === '{' || c === '[' || c === '(') depth++;
    else if (c === '}' || c === ']' || c === ')') depth--;
    else if (c === ',' && depth === 0) {
      parts.push([from, i]);
      from = i + 1;
    }
  }
  parts.push([from, maskedInner.length]);
  return parts;
}

function normalise(text, name) {
  text = text.replace(/\r\n/g, '\n');

  // 1. Imports (always one per line): drop annotation imports, rewrite ours, reject the rest.
  const masked0 = maskNonCode(text);
  const lines = text.split('\n');
  const maskedLines = masked0.split('\n');
  const kept = [];
  for (let i = 0; i < lines.length; i++) {
    if (/^\s*import\b/.test(maskedLines[i])) {
      const imp = /^\s*import\s+(?:public\s+|weak\s+)?"([^"]+)"\s*;\s*$/.exec(lines[i]);
      if (!imp) throw new Error(`${name}:${i + 1}: cannot parse import: ${lines[i].trim()}`);
      const path = imp[1];
      if (annotationImports.has(path)) continue;
      if (!rewrites.has(path)) {
        throw new Error(
          `${name}:${i + 1}: unknown import "${path}". A newer etcd has a new dependency: ` +
            'decide whether it is an annotation to strip or a proto to import, and add it to scripts/sync-protos.mjs.',
        );
      }
      kept.push(lines[i].replace(`"${path}"`, `"${rewrites.get(path)}"`));
      continue;
    }
    kept.push(lines[i]);
  }
  text = kept.join('\n');

  // 2. Statements `option (annotation) = ...;` / `option (annotation) = { ... };` (file, message,
  //    enum or rpc level, possibly over several lines) and `option go_package = "...";`.
  //    Removed together with their line when nothing else is on it.
  let masked = maskNonCode(text);
  const removals = [];
  for (const m of masked.matchAll(/\boption\s+(\([^)]*\)|go_package\b)/g)) {
    if (m[1] !== 'go_package' && !annotation.test(m[1])) continue;
    let start = m.index;
    let end = statementEnd(masked, start, name);
    const lineStart = masked.lastIndexOf('\n', start - 1) + 1;
    let lineEnd = masked.indexOf('\n', end);
    if (lineEnd < 0) lineEnd = masked.length;
    if (/^[ \t]*$/.test(masked.slice(lineStart, start)) && /^[ \t]*$/.test(masked.slice(end, lineEnd))) {
      start = lineStart;
      end = Math.min(lineEnd + 1, masked.length);
    }
    removals.push([start, end]);
  }
  text = cut(text, removals);

  // 3. Field and enum-value options `[...]`: drop annotation entries, keep any others.
  masked = maskNonCode(text);
  const edits = [];
  for (const m of masked.matchAll(/[ \t]*\[([^\]]*)\]/g)) {
    const innerStart = m.index + m[0].indexOf('[') + 1;
    const maskedInner = m[1];
    const parts = splitOptions(maskedInner);
    const isAnnotation = ([a, b]) => annotation.test(maskedInner.slice(a, b).trim());
    if (!parts.some(isAnnotation)) continue;
    const others = parts.filter((p) => !isAnnotation(p)).map(([a, b]) => text.slice(innerStart + a, innerStart + b).trim());
    edits.push([m.index, m.index + m[0].length, others.length ? ` [${others.join(', ')}]` : '']);
  }
  text = cut(text, edits);

  // 4. Tidy what the removals left behind (code only; comments are not touched):
  //    an rpc whose body held only annotations becomes `rpc X(...) returns (...) {}`,
  //    a block no longer starts with a blank line, and blank lines do not pile up.
  text = text.replace(/^([ \t]*rpc\b[^\n{]*\{)[ \t]*\n(?:[ \t]*\n)*[ \t]*\}/gm, (_, head) => `${head.replace(/\s+\{$/, ' {')}}`);
  text = text.replace(/^([^\n]*\{[ \t]*)\n(?:[ \t]*\n)+(?=[ \t]*\S)/gm, (whole, head) =>
    maskNonCode(head).trimEnd().endsWith('{') ? `${head}\n` : whole,
  );
  text = text.replace(/\n(?:[ \t]*\n){2,}/g, '\n\n');
  text = text.replace(/^\n+/, '');
  return text.endsWith('\n') ? text : `${text}\n`;
}

/** Replaces the given non-overlapping [start, end, replacement?] ranges of `text`. */
function cut(text, ranges) {
  let result = '';
  let at = 0;
  for (const [start, end, replacement = ''] of [...ranges].sort((a, b) => a[0] - b[0])) {
    if (start < at) continue; // nested in a range already removed
    result += text.slice(at, start) + replacement;
    at = end;
  }
  return result + text.slice(at);
}

// Normalise everything first, so a failure leaves the output folder untouched.
let outputs;
try {
  outputs = Object.entries(files).map(([from, to]) => {
    let text;
    try {
      text = readFileSync(join(source, from), 'utf8');
    } catch (error) {
      throw new Error(`${join(source, from)}: cannot read (${error.code ?? error.message}); is this an etcd source tree?`);
    }
    return [to, normalise(text, from)];
  });
} catch (error) {
  console.error(`sync-protos: ${error.message}`);
  process.exit(1);
}

// Only the folders this script owns are replaced; anything else in the output folder stays.
for (const dir of new Set(Object.values(files).map((f) => f.split('/')[0]))) {
  rmSync(join(out, dir), { recursive: true, force: true });
}
for (const [to, text] of outputs) {
  const target = join(out, to);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, text);
}
