import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { etcdSuite, repoRoot } from './etcd-version';

/** Makes sure the etcd under test is installed, so `npm test` alone works on a fresh machine. */
export default function globalSetup(): void {
  execFileSync('bash', [join(repoRoot, 'scripts/install-etcd'), etcdSuite()], { stdio: ['ignore', 'ignore', 'inherit'] });
}
