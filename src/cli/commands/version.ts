import type { Command } from 'commander';
import { readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** This package's version, read from its package.json (found upwards from the running script). */
export function packageVersion(): string {
  let dir = dirname(realpathSync(process.argv[1] ?? '.'));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'nice-etcd' && pkg.version) return pkg.version;
    } catch {
      // no package.json here: look further up
    }
    const parent = dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
}

/** Registers `version`. */
export function register(program: Command): void {
  program
    .command('version')
    .description('Prints the version of nice-etcd')
    .action(() => {
      // The API version is that of the protos the client is generated from (proto/ETCD_VERSION).
      process.stdout.write(`nice-etcd version: ${packageVersion()}\nAPI version: 3.5\n`);
    });
}
