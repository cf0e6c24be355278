import type { Command } from 'commander';
import { readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The folder of this package (its package.json), found upwards from the running script. */
function packageRoot(): { dir: string; version: string } | undefined {
  let dir = dirname(realpathSync(process.argv[1] ?? '.'));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'nice-etcd' && pkg.version) return { dir, version: pkg.version };
    } catch {
      // no package.json here: look further up
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** The etcd API version of the protos the client is generated from (proto/ETCD_VERSION, shipped). */
function apiVersion(root: string): string {
  try {
    return /^(\d+\.\d+)/.exec(readFileSync(join(root, 'proto', 'ETCD_VERSION'), 'utf8'))?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Registers `version`. */
export function register(program: Command): void {
  program
    .command('version')
    .description('Prints the version of nice-etcd')
    .action(() => {
      const root = packageRoot();
      process.stdout.write(`nice-etcd version: ${root?.version ?? 'unknown'}\nAPI version: ${root ? apiVersion(root.dir) : 'unknown'}\n`);
    });
}
