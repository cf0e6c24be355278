// TypeDoc plugin (typedoc.json loads it): documents the rows of `methodPolicies`.
//
// `methodPolicies` is a data table (`as const`), so TypeDoc expands its inferred type into ~300
// nested properties (`kv.range.retry`, ...), each of which `validation.notDocumented` would
// demand a comment for. Writing 300 comments into the table would bury it; instead this plugin
// gives each service a line, each row the gRPC method it governs, and each cell the comment of the
// same member of `MethodPolicy` (the documented row type), so the reference stays exact and the
// validation still fails on anything else left undocumented.
import { Comment, Converter, ReflectionKind } from 'typedoc';

const TABLE = 'methodPolicies';
const ROW_TYPE = 'MethodPolicy';
const SERVICES = {
  kv: 'KV', watch: 'Watch', lease: 'Lease', cluster: 'Cluster', maintenance: 'Maintenance',
  auth: 'Auth', lock: 'Lock', election: 'Election',
};
const PACKAGES = { lock: 'v3lockpb', election: 'v3electionpb' };

const text = (s) => new Comment([{ kind: 'text', text: s }]);
const children = (reflection) => reflection.type?.type === 'reflection' ? reflection.type.declaration.children ?? [] : [];

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    const project = context.project;
    const table = project.getChildByName(TABLE);
    const rowType = project.getChildByName(ROW_TYPE);
    if (!table || !rowType) {
      app.logger.error(`typedoc-policy-table: ${TABLE} or ${ROW_TYPE} is no longer exported; update scripts/typedoc-policy-table.mjs`);
      return;
    }
    const cellComments = new Map((rowType.children ?? []).map((member) => [member.name, member.comment]));
    for (const service of children(table)) {
      const name = SERVICES[service.name] ?? service.name;
      const pkg = PACKAGES[service.name] ?? 'etcdserverpb';
      service.comment ??= text(`Policies of the ${name} service's RPCs (\`/${pkg}.${name}/...\`), one per method.`);
      for (const row of children(service)) {
        const method = row.name[0].toUpperCase() + row.name.slice(1);
        row.comment ??= text(`The policy of \`/${pkg}.${name}/${method}\`.`);
        for (const cell of children(row)) {
          if (!cell.kindOf(ReflectionKind.Property)) continue;
          const comment = cellComments.get(cell.name);
          if (comment) cell.comment ??= comment.clone();
        }
      }
    }
  });
}
