// Go's experimental/recipes, driven over stdin (see serve() in main.go): the Go participant of
// test/integration/recipes.test.ts.
//
//	barrier <key>                  hold -> held, release -> released, wait -> waited
//	double-barrier <key> <count>   enter -> entered, leave -> left (one session, made before ready)
//	queue <prefix>                 enqueue <value> -> enqueued <value>, dequeue -> dequeued <value>
//	priority-queue <prefix>        enqueue <priority> <value> -> enqueued <value>, dequeue -> dequeued <value>
//	rwmutex <prefix>               rlock -> rlocked, runlock -> runlocked, lock -> locked, unlock -> unlocked
package main

import (
	"strconv"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
	recipe "go.etcd.io/etcd/client/v3/experimental/recipes"
)

func init() {
	register("barrier", cmdBarrier)
	register("double-barrier", cmdDoubleBarrier)
	register("queue", cmdQueue)
	register("priority-queue", cmdPriorityQueue)
	register("rwmutex", cmdRWMutex)
}

// replyWith turns a call that returns only an error into a handler answering `word`.
func replyWith(word string, call func() error) func(string) (string, error) {
	return func(string) (string, error) { return word, call() }
}

// dequeueReply answers `dequeued <value>` with the next item of q.
func dequeueReply(q interface{ Dequeue() (string, error) }) func(string) (string, error) {
	return func(string) (string, error) {
		value, err := q.Dequeue()
		return "dequeued " + value, err
	}
}

// withSession is withClient with a concurrency.Session on a fresh lease.
func withSession(args []string, n int, usage string, body func(s *concurrency.Session) error) error {
	return withClient(args, n, usage, func(cli *clientv3.Client) error {
		session, err := concurrency.NewSession(cli)
		if err != nil {
			return err
		}
		defer session.Close()
		return body(session)
	})
}

func cmdBarrier(args []string) error {
	return withClient(args, 1, "barrier <key>", func(cli *clientv3.Client) error {
		b := recipe.NewBarrier(cli, args[0])
		return serve(handlers{"hold": replyWith("held", b.Hold), "release": replyWith("released", b.Release), "wait": replyWith("waited", b.Wait)})
	})
}

func cmdDoubleBarrier(args []string) error {
	return withSession(args, 2, "double-barrier <key> <count>", func(s *concurrency.Session) error {
		count, err := strconv.Atoi(args[1])
		if err != nil {
			return err
		}
		b := recipe.NewDoubleBarrier(s, args[0], count)
		return serve(handlers{"enter": replyWith("entered", b.Enter), "leave": replyWith("left", b.Leave)})
	})
}

func cmdQueue(args []string) error {
	return withClient(args, 1, "queue <prefix>", func(cli *clientv3.Client) error {
		q := recipe.NewQueue(cli, args[0])
		return serve(handlers{
			"enqueue": func(value string) (string, error) { return "enqueued " + value, q.Enqueue(value) },
			"dequeue": dequeueReply(q),
		})
	})
}

func cmdPriorityQueue(args []string) error {
	return withClient(args, 1, "priority-queue <prefix>", func(cli *clientv3.Client) error {
		q := recipe.NewPriorityQueue(cli, args[0])
		return serve(handlers{
			"enqueue": func(arg string) (string, error) {
				priority, value, _ := strings.Cut(arg, " ")
				pr, err := strconv.ParseUint(priority, 10, 16)
				if err != nil {
					return "", err
				}
				return "enqueued " + value, q.Enqueue(value, uint16(pr))
			},
			"dequeue": dequeueReply(q),
		})
	})
}

func cmdRWMutex(args []string) error {
	return withSession(args, 1, "rwmutex <prefix>", func(s *concurrency.Session) error {
		m := recipe.NewRWMutex(s, args[0])
		return serve(handlers{
			"rlock":   replyWith("rlocked", m.RLock),
			"runlock": replyWith("runlocked", m.RUnlock),
			"lock":    replyWith("locked", m.Lock),
			"unlock":  replyWith("unlocked", m.Unlock),
		})
	})
}
