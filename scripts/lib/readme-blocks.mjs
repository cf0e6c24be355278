// Writes every ```ts block of a Markdown file into a directory, one module per block, so that
// scripts/check-package can type-check the README against the packed package.
//
// The convention:
// - Every block fenced ```ts is compiled (strict, as an ES module, against dist/). A block that
//   must not be (pseudo-code) is fenced ```ts nocheck; it still renders as TypeScript.
// - A block becomes <dir>/line-<N>.ts, N being the line of its opening fence, so a compiler
//   error points at the README line. Indentation (blocks inside list items) is removed.
// - `export {}` is appended, so each block is a module of its own and blocks never share names.
// - Names a block uses without declaring them come from test/consumer/readme-globals.d.ts.
//
// Usage: node scripts/lib/readme-blocks.mjs README.md <dir>   (prints the number of blocks)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [markdown, dir] = process.argv.slice(2);
if (!markdown || !dir) throw new Error('usage: readme-blocks.mjs <markdown file> <output dir>');
const lines = readFileSync(markdown, 'utf8').split('\n');
mkdirSync(dir, { recursive: true });

let count = 0;
for (let i = 0; i < lines.length; i++) {
  const open = /^(\s*)```ts(?:\s+(\S+))?\s*$/.exec(lines[i]);
  if (!open) continue;
  const [, indent, flag] = open;
  const start = i + 1;
  let end = start;
  while (end < lines.length && lines[end].trim() !== '```') end++;
  if (end === lines.length) throw new Error(`${markdown}:${i + 1}: a \`\`\`ts block is never closed`);
  i = end;
  if (flag === 'nocheck') continue;
  if (flag !== undefined) throw new Error(`${markdown}:${start}: unknown block flag '${flag}' (only 'nocheck' is known)`);
  const body = lines.slice(start, end).map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line.trimStart()));
  writeFileSync(join(dir, `line-${start}.ts`), `${body.join('\n')}\nexport {};\n`);
  count++;
}
console.log(count);
