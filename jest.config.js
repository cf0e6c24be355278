// Two projects: `unit` needs nothing but Node; `integration` starts real etcd servers
// through test/harness (globalSetup makes sure the etcd binaries are installed).
const common = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  // Sources import with .js suffixes (for Node ESM); jest resolves them to the .ts files.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  // NICE_ETCD_TRANSPORT=http2|grpc-js picks the transport of every client the tests make.
  setupFiles: ['<rootDir>/test/harness/transport.ts'],
};

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/harness/global-setup.ts',
      slowTestThreshold: 30,
    },
  ],
  testTimeout: 60_000,
};
