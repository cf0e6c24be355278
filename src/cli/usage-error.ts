/** Bad usage of the command line (a missing argument, an unknown flag value): exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
