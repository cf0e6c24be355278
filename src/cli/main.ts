#!/usr/bin/env node
// The `nice-etcd` executable (package.json "bin").
import { main } from './program.js';

// A reader that went away (`nice-etcd get --prefix '' | head -1`) ends the command quietly.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(0);
});

void main(process.argv).then((code) => {
  process.exitCode = code;
});
