// Copies etcd's API protos into the output folder and normalises them for buf + ts-proto:
// strips gogoproto, google.api.http, openapiv2 and (3.6+) versionpb annotations, and rewrites
// imports to paths relative to the output folder. Unknown imports are an error, so a new
// dependency in a newer etcd is noticed instead of silently breaking generation.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const [src, out] = process.argv.slice(2);
if (!src || !out) {
  console.error('usage: node scripts/sync-protos.mjs <etcd source> <output folder>');
  process.exit(2);
}

/** Source path in an etcd tree → path in the output folder. */
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
]);

/** Imports of the protos we copy, in every spelling etcd has used. */
const rewrites = new Map();
for (const target of Object.values(files)) {
  const [pkg, file] = target.split('/');
  for (const spelling of [
    `etcd/api/${pkg}/${file}`,
    `go.etcd.io/etcd/api/v3/${pkg}/${file}`,
    `api/${pkg}/${file}`,
    `etcd/server/etcdserver/api/v3lock/${pkg}/${file}`,
    `etcd/server/etcdserver/api/v3election/${pkg}/${file}`,
    `go.etcd.io/etcd/server/v3/etcdserver/api/v3lock/${pkg}/${file}`,
    `go.etcd.io/etcd/server/v3/etcdserver/api/v3election/${pkg}/${file}`,
    target,
  ]) {
    rewrites.set(spelling, target);
  }
}

const annotation = /\((gogoproto\.[\w.]+|google\.api\.http|grpc\.gateway\.[\w.]+|versionpb\.[\w.]+)\)/;

/** Removes `[...]` field options that are only annotations; keeps any others. */
function stripFieldOptions(line) {
  return line.replace(/\s*\[([^\]]*)\]/g, (whole, inner) => {
    const kept = inner
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s && !annotation.test(s));
    return kept.length ? ` [${kept.join(', ')}]` : '';
  });
}

function normalise(text, name) {
  const output = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i];
    const imp = /^\s*import\s+(?:public\s+)?"([^"]+)";/.exec(line);
    if (imp) {
      const path = imp[1];
      if (annotationImports.has(path)) continue;
      if (rewrites.has(path)) {
        output.push(`import "${rewrites.get(path)}";`);
        continue;
      }
      throw new Error(`${name}: unknown import "${path}"; add it to scripts/sync-protos.mjs deliberately`);
    }
    if (/^\s*option\s+go_package\s*=/.test(line)) continue;
    // `option (annotation) = value;` possibly followed by a `{ ... }` block over several lines.
    if (/^\s*option\s*\(/.test(line) && annotation.test(line)) {
      // Skip to the end of the statement: the closing brace of a block, or the semicolon.
      let depth = count(line, '{') - count(line, '}');
      while ((depth > 0 || (depth === 0 && !line.includes(';') && !line.includes('}'))) && i + 1 < lines.length) {
        line = lines[++i];
        depth += count(line, '{') - count(line, '}');
      }
      continue;
    }
    line = stripFieldOptions(line);
    output.push(line.replace(/\s+$/, ''));
  }
  // Annotations removed from an rpc body leave `{` + blank lines + `}`: fold them into `{}`.
  let result = output.join('\n').replace(/\{\s*\n(\s*\n)*\s*\}/g, '{}');
  result = result.replace(/\n{3,}/g, '\n\n');
  return result.endsWith('\n') ? result : result + '\n';
}

function count(s, ch) {
  return s.split(ch).length - 1;
}

for (const dir of new Set(Object.values(files).map((f) => f.split('/')[0]))) rmSync(join(out, dir), { recursive: true, force: true });
for (const [from, to] of Object.entries(files)) {
  const text = readFileSync(join(src, from), 'utf8');
  const target = join(out, to);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, normalise(text, from));
}
