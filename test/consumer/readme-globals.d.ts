// The names the README's code blocks use without declaring them: each block is a fragment of
// one story in which a client, a signal and a few values already exist. scripts/check-package
// compiles every block as its own module with these ambient globals; a block that declares one
// of these names itself (the Connecting block creates `client`) shadows it.
// This file is a script (no import or export), so its declarations are global.

declare const client: import('nice-etcd').Client;
declare const signal: AbortSignal;
/** A lease id. */
declare const id: bigint;
/** A revision. */
declare const revision: bigint;
/** A member id. */
declare const targetId: bigint;
declare let watcher: import('nice-etcd').Watcher;
declare function handle(batch: import('nice-etcd').WatchResponse): void;
declare function resync(kvs: import('nice-etcd').KeyValue[]): void;
