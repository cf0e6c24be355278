import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';

/**
 * Reads a password: from the terminal without echoing it, or the next line of standard input
 * when that is not a terminal (so scripts can pipe it, as with etcdctl's `--interactive=false`).
 */
export async function askPassword(prompt: string): Promise<string> {
  const terminal = process.stdin.isTTY === true;
  let muted = false;
  const output = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      if (!muted) process.stderr.write(chunk);
      callback();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal });
  try {
    const answer = new Promise<string>((resolve, reject) => {
      rl.once('line', resolve);
      rl.once('close', () => reject(new Error('failed to read password: end of input')));
    });
    if (terminal) {
      output.write(prompt);
      muted = true;
    }
    return await answer;
  } finally {
    if (terminal) process.stderr.write('\n');
    rl.close();
  }
}
