#!/usr/bin/env node
// The `nice-etcd` executable (package.json "bin").
import { main } from './program.js';

// Deprecation warnings from dependencies are nothing a user of the command line can act on (grpc-js
// sets an IP address as the TLS server name: DEP0123); they would break the one-line error rule.
process.noDeprecation = true;

// A reader that went away (`nice-etcd get --prefix '' | head -1`) ends the command quietly.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(0);
});

void main(process.argv).then((code) => {
  process.exitCode = code;
});
