// The Go interop peer: the Go side of nice-etcd's interop tests, written against Go's clientv3
// (etcd 3.5, from Debian's golang-etcd-server-dev) and built offline by scripts/build-go-peer.
//
// Convention (test/harness/go-peer.ts relies on it):
//
//   - Usage: go-peer <subcommand> [args...]. Each subcommand lives in the file of its concept
//     (recipes.go, naming.go, mirror.go, ...) and adds itself from that file's init():
//     register("barrier", cmdBarrier). main.go holds only the dispatch and the shared helpers
//     below; no file edits another's. All files share package main, so name functions after
//     their file's concept (cmdX for subcommands) to keep names from clashing as files are added.
//   - Endpoints come from the ETCD_ENDPOINTS environment variable (comma-separated host:port);
//     connect() returns a clientv3 client for them, withClient() checks the arguments first.
//   - Line protocol on stdout, one line per event: a subcommand prints `ready` (with ready())
//     once it is set up, then result lines (with emit()). Commands, where a subcommand takes
//     any, are read from stdin one per line; stdin closing means "finish". serve() runs the
//     usual loop: `<verb> <argument...>` in, one result line out per command (e.g. `hold` ->
//     `held`, `enqueue 5 a` -> `enqueued a`), commands run one after another.
//   - Exit 0 when done; on failure, print the error on stderr and exit 1.
package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

var subcommands = map[string]func(args []string) error{}

// register adds a subcommand; called from the init() of the file that implements it.
func register(name string, run func(args []string) error) {
	if _, dup := subcommands[name]; dup {
		panic("go-peer: subcommand registered twice: " + name)
	}
	subcommands[name] = run
}

func main() {
	if len(os.Args) < 2 || subcommands[os.Args[1]] == nil {
		fmt.Fprintf(os.Stderr, "usage: go-peer <subcommand> [args...]; ETCD_ENDPOINTS=host:port,...\n")
		os.Exit(2)
	}
	if err := subcommands[os.Args[1]](os.Args[2:]); err != nil {
		fmt.Fprintf(os.Stderr, "go-peer %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

// connect returns a clientv3 client for the endpoints in ETCD_ENDPOINTS.
func connect() (*clientv3.Client, error) {
	endpoints := strings.Split(os.Getenv("ETCD_ENDPOINTS"), ",")
	if endpoints[0] == "" {
		return nil, fmt.Errorf("ETCD_ENDPOINTS is not set")
	}
	return clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: 10 * time.Second})
}

// withClient checks that there are n args (printing usage otherwise), connects, and runs body.
func withClient(args []string, n int, usage string, body func(cli *clientv3.Client) error) error {
	if len(args) != n {
		return fmt.Errorf("usage: %s", usage)
	}
	cli, err := connect()
	if err != nil {
		return err
	}
	defer cli.Close()
	return body(cli)
}

// ready tells the harness that the subcommand is set up.
func ready() { emit("ready") }

var stdout sync.Mutex

// emit prints one result line (safe from several goroutines).
func emit(format string, args ...interface{}) {
	stdout.Lock()
	defer stdout.Unlock()
	fmt.Printf(format+"\n", args...)
}

// handlers maps a command's verb to what it does: it gets the rest of the line and returns
// the result line.
type handlers = map[string]func(arg string) (string, error)

// writeHandlers gives the put and delete verbs on kv, for subcommands that add their own:
//
//	put <key> <value>  -> put <key> <revision>
//	delete <key>       -> deleted <key> <count>
func writeHandlers(ctx context.Context, kv clientv3.KV) handlers {
	return handlers{
		"put": func(arg string) (string, error) {
			key, value, _ := strings.Cut(arg, " ")
			r, err := kv.Put(ctx, key, value)
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("put %s %d", key, r.Header.Revision), nil
		},
		"delete": func(key string) (string, error) {
			r, err := kv.Delete(ctx, key)
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("deleted %s %d", key, r.Deleted), nil
		},
	}
}

// serve prints ready, then runs each stdin line `<verb> <argument>` through commands[verb]
// and prints the line it returns, until stdin closes.
func serve(commands handlers) error {
	ready()
	scanner := bufio.NewScanner(os.Stdin)
	for scanner.Scan() {
		verb, arg, _ := strings.Cut(scanner.Text(), " ")
		handle := commands[verb]
		if handle == nil {
			return fmt.Errorf("unknown command %q", verb)
		}
		result, err := handle(arg)
		if err != nil {
			return fmt.Errorf("%s: %w", verb, err)
		}
		emit("%s", result)
	}
	return scanner.Err()
}
