#!/usr/bin/env node
// The `nice-etcd` executable (package.json "bin").
import { main } from './program.js';

void main(process.argv).then((code) => {
  process.exitCode = code;
});
