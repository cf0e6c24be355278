import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

// scripts/sync-protos.mjs on small etcd source trees written in the shapes of etcd 3.6 (gogoproto,
// versionpb, a multi-line openapiv2 file option, google.api.http rpc options) and of 3.7 (no
// gogoproto). The real 3.6.14 and 3.7.1 trees were checked by hand (README: Development).

const script = join(__dirname, '../../scripts/sync-protos.mjs');
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nice-etcd-sync-protos-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const rpc36 = `syntax = "proto3";
package etcdserverpb;

import "gogoproto/gogo.proto";
import "etcd/api/mvccpb/kv.proto";
import "etcd/api/authpb/auth.proto";
import "etcd/api/versionpb/version.proto";

// for grpc-gateway
import "google/api/annotations.proto";
import "protoc-gen-openapiv2/options/annotations.proto";

option go_package = "go.etcd.io/etcd/api/v3/etcdserverpb";

option (gogoproto.marshaler_all) = true;

option (grpc.gateway.protoc_gen_openapiv2.options.openapiv2_swagger) = {
  security_definitions: {
    security: {
      key: "ApiKey";
      value: { type: TYPE_API_KEY; in: IN_HEADER; name: "Authorization"; }
    }
  }
};

service KV {
  // Range gets the keys in the range from the key-value store.
  rpc Range(RangeRequest) returns (RangeResponse) {
      option (google.api.http) = {
        post: "/v3/kv/range"
        body: "*"
    };
  }
}

message RangeRequest {
  option (versionpb.etcd_version_msg) = "3.0";

  enum SortOrder {
    option (versionpb.etcd_version_enum) = "3.0";
    NONE = 0; // default, no sorting
    ASCEND = 1 [(versionpb.etcd_version_enum_value)="3.1"];
  }
  bytes key = 1;
  int64 min_mod_revision = 10 [(versionpb.etcd_version_field)="3.1"];
  int64 old = 11 [deprecated = true, (versionpb.etcd_version_field)="3.1"];
}

message RangeResponse {
  option (versionpb.etcd_version_msg) = "3.0";
  mvccpb.KeyValue kv = 1;
  authpb.User user = 2;
  // storageVersion is the version of the db file.
  string storageVersion = 11 [(versionpb.etcd_version_field)="3.6"];
}
`;

const expected = `syntax = "proto3";
package etcdserverpb;

import "mvccpb/kv.proto";
import "authpb/auth.proto";

// for grpc-gateway

service KV {
  // Range gets the keys in the range from the key-value store.
  rpc Range(RangeRequest) returns (RangeResponse) {}
}

message RangeRequest {
  enum SortOrder {
    NONE = 0; // default, no sorting
    ASCEND = 1;
  }
  bytes key = 1;
  int64 min_mod_revision = 10;
  int64 old = 11 [deprecated = true];
}

message RangeResponse {
  mvccpb.KeyValue kv = 1;
  authpb.User user = 2;
  // storageVersion is the version of the db file.
  string storageVersion = 11;
}
`;

/** An etcd source tree with the five files sync-protos imports; `rpc` is etcdserverpb/rpc.proto. */
async function tree(rpc: string, gogo: boolean): Promise<string> {
  const root = join(dir, 'etcd');
  const gogoImport = gogo ? 'import "gogoproto/gogo.proto";\n' : '';
  const gogoOption = gogo ? 'option (gogoproto.marshaler_all) = true;\n' : '';
  const files: Record<string, string> = {
    'api/etcdserverpb/rpc.proto': rpc,
    'api/mvccpb/kv.proto': `syntax = "proto3";\npackage mvccpb;\n\n${gogoImport}\noption go_package = "go.etcd.io/etcd/api/v3/mvccpb";\n${gogoOption}\nmessage KeyValue {\n  bytes key = 1;\n}\n`,
    'api/authpb/auth.proto': `syntax = "proto3";\npackage authpb;\n\n${gogoImport}\noption go_package = "go.etcd.io/etcd/api/v3/authpb";\n\nmessage User {\n  bytes name = 1;\n}\n`,
    'server/etcdserver/api/v3lock/v3lockpb/v3lock.proto': `syntax = "proto3";\npackage v3lockpb;\n\n${gogoImport}import "etcd/api/etcdserverpb/rpc.proto";\n\nmessage LockRequest {\n  etcdserverpb.RangeRequest r = 1;\n}\n`,
    'server/etcdserver/api/v3election/v3electionpb/v3election.proto': `syntax = "proto3";\npackage v3electionpb;\n\nimport "etcd/api/etcdserverpb/rpc.proto";\nimport "etcd/api/mvccpb/kv.proto";\n\nmessage LeaderKey {\n  mvccpb.KeyValue kv = 1;\n}\n`,
  };
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
  }
  return root;
}

function sync(source: string, out: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [script, source, out], (error, _stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stderr }));
  });
}

it('strips etcd 3.6 annotations (gogoproto, versionpb, openapiv2, google.api.http) and keeps other options', async () => {
  const out = join(dir, 'out');
  expect(await sync(await tree(rpc36, true), out)).toEqual({ code: 0, stderr: '' });
  expect(await readFile(join(out, 'etcdserverpb/rpc.proto'), 'utf8')).toBe(expected);
  expect(await readFile(join(out, 'mvccpb/kv.proto'), 'utf8')).toBe('syntax = "proto3";\npackage mvccpb;\n\nmessage KeyValue {\n  bytes key = 1;\n}\n');
  expect(await readFile(join(out, 'v3lockpb/v3lock.proto'), 'utf8')).toContain('import "etcdserverpb/rpc.proto";');
});

it('reads an etcd 3.7 tree, which has no gogoproto, to the same output', async () => {
  const out = join(dir, 'out');
  const rpc37 = rpc36.replace('import "gogoproto/gogo.proto";\n', '').replace('option (gogoproto.marshaler_all) = true;\n', '');
  expect(await sync(await tree(rpc37, false), out)).toEqual({ code: 0, stderr: '' });
  expect(await readFile(join(out, 'etcdserverpb/rpc.proto'), 'utf8')).toBe(expected);
  expect(await readFile(join(out, 'v3electionpb/v3election.proto'), 'utf8')).toContain('import "mvccpb/kv.proto";');
});

it('refuses an unknown import and leaves the output folder as it was', async () => {
  const out = join(dir, 'out');
  await mkdir(join(out, 'etcdserverpb'), { recursive: true });
  await writeFile(join(out, 'etcdserverpb/rpc.proto'), 'previous');
  const rpc = rpc36.replace('import "etcd/api/authpb/auth.proto";', 'import "etcd/api/authpb/auth.proto";\nimport "etcd/api/newpb/new.proto";');
  const { code, stderr } = await sync(await tree(rpc, true), out);
  expect(code).toBe(1);
  expect(stderr).toContain('unknown import "etcd/api/newpb/new.proto"');
  expect(await readFile(join(out, 'etcdserverpb/rpc.proto'), 'utf8')).toBe('previous');
});
