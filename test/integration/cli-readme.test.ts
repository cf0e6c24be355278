import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useEtcd } from '../harness/index.js';
import { exited, waitFor } from './cli-run.js';

// Every ```sh example of the README's "Command line" section, run as written by bash in an empty
// directory, with `nice-etcd` on the PATH (this checkout's CLI) and the README's 127.0.0.1:2379
// replaced by the test's etcd.
const suite = useEtcd();
const repo = join(__dirname, '../..');

/** The ```sh blocks of the section, in order. */
function examples(): string[] {
  const readme = readFileSync(join(repo, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Command line\n');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nice-etcd-readme-'));
  const shim = join(dir, 'bin', 'nice-etcd');
  await mkdir(join(dir, 'bin'));
  const loader = require.resolve('tsx');
  await writeFile(shim, `#!/bin/sh\nexec "${process.execPath}" --import "file://${loader}" "${join(repo, 'src/cli/main.ts')}" "$@"\n`);
  await chmod(shim, 0o755);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function run(script: string): { child: ChildProcess; output: () => string } {
  const child = spawn('bash', ['-e', '-o', 'pipefail', '-c', script.replaceAll('127.0.0.1:2379', suite.etcd.endpoint)], {
    cwd: dir,
    env: { ...process.env, PATH: `${join(dir, 'bin')}:${process.env.PATH}`, ETCDCTL_ENDPOINTS: suite.etcd.endpoint },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  return { child, output: () => output };
}

it('has examples to try', () => {
  expect(examples().length).toBeGreaterThanOrEqual(4);
});

// In order: later examples use what earlier ones wrote.
it.each(examples().map((script, i) => [i + 1, script] as const))('runs example %i as written', async (_n, script) => {
  const { child, output } = run(script);
  if (script.includes('until Ctrl-C')) {
    // A user sees it print, then presses Ctrl-C (the whole foreground process group gets SIGINT).
    await waitFor(async () => {
      await suite.client.put('config/mode', 'watched');
      return output().includes('PUT\nconfig/mode\n');
    }, 'the watch example to print an event');
    process.kill(-child.pid!, 'SIGINT');
  }
  const code = await exited(child);
  expect({ code, output: output() }).toEqual({ code: 0, output: expect.not.stringContaining('Error') });
}, 120_000);

it('left what the examples wrote', async () => {
  expect((await suite.client.get('config/mode')).kvs.length).toBe(1);
  expect((await suite.client.get('note')).kvs[0]!.value.toString()).toBe('from stdin');
});
