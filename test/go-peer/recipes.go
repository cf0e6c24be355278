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
	"fmt"
	"strconv"
	"strings"

	"go.etcd.io/etcd/client/v3/concurrency"
	recipe "go.etcd.io/etcd/client/v3/experimental/recipes"
)

func init() {
	register("barrier", barrier)
	register("double-barrier", doubleBarrier)
	register("queue", queue)
	register("priority-queue", priorityQueue)
	register("rwmutex", rwMutex)
}

// done turns a call that returns only an error into a handler answering `word`.
func done(word string, call func() error) func(string) (string, error) {
	return func(string) (string, error) { return word, call() }
}

func barrier(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: barrier <key>")
	}
	cli, err := connect()
	if err != nil {
		return err
	}
	defer cli.Close()
	b := recipe.NewBarrier(cli, args[0])
	return serve(map[string]func(string) (string, error){
		"hold":    done("held", b.Hold),
		"release": done("released", b.Release),
		"wait":    done("waited", b.Wait),
	})
}

func doubleBarrier(args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("usage: double-barrier <key> <count>")
	}
	count, err := strconv.Atoi(args[1])
	if err != nil {
		return err
	}
	cli, err := connect()
	if err != nil {
		return err
	}
	defer cli.Close()
	session, err := concurrency.NewSession(cli)
	if err != nil {
		return err
	}
	defer session.Close()
	b := recipe.NewDoubleBarrier(session, args[0], count)
	return serve(map[string]func(string) (string, error){
		"enter": done("entered", b.Enter),
		"leave": done("left", b.Leave),
	})
}

func queue(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: queue <prefix>")
	}
	cli, err := connect()
	if err != nil {
		return err
	}
	defer cli.Close()
	q := recipe.NewQueue(cli, args[0])
	return serve(map[string]func(string) (string, error){
		"enqueue": func(value string) (string, error) { return "enqueued " + value, q.Enqueue(value) },
		"dequeue": func(string) (string, error) {
			value, err := q.Dequeue()
			return "dequeued " + value, err
		},
	})
}

func priorityQueue(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: priority-queue <prefix>")
	}
	cli, err := connect()
	if err != nil {
		return err
	}
	defer cli.Close()
	q := recipe.NewPriorityQueue(cli, args[0])
	return serve(map[string]func(string) (string, error){
		"enqueue": func(arg string) (string, error) {
			priority, value, _ := strings.Cut(arg, " ")
			pr, err := strconv.ParseUint(priority, 10, 16)
			if err != nil {
				return "", err
			}
			return "enqueued " + value, q.Enqueue(value, uint16(pr))
		},
		"dequeue": func(string) (string, error) {
			value, err := q.Dequeue()
			return "dequeued " + value, err
		},
	})
}

func rwMutex(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: rwmutex <prefix>")
	}
	cli, err := connect()
	if err != nil {
		return err
	}
	defer cli.Close()
	session, err := concurrency.NewSession(cli)
	if err != nil {
		return err
	}
	defer session.Close()
	m := recipe.NewRWMutex(session, args[0])
	return serve(map[string]func(string) (string, error){
		"rlock":   done("rlocked", m.RLock),
		"runlock": done("runlocked", m.RUnlock),
		"lock":    done("locked", m.Lock),
		"unlock":  done("unlocked", m.Unlock),
	})
}
