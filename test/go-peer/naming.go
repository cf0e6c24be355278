// Go's naming/endpoints Manager, driven over stdin (see serve() in main.go): the Go side of
// test/integration/naming.test.ts.
//
//	endpoints <target>
//	  add <key> <endpoint json>  -> added <key>     (AddEndpoint; json as {"Addr":...,"Metadata":...})
//	  delete <key>               -> deleted <key>   (DeleteEndpoint)
//	  list                       -> list <json>     (List: {"<key>":{"Addr":...,"Metadata":...},...})
//	  watch                      -> watching        (NewWatchChannel; then, as they come, one
//	                                                 `updates <json>` line per batch of []*Update)
package main

import (
	"context"
	"encoding/json"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/naming/endpoints"
)

func init() {
	register("endpoints", cmdEndpoints)
}

func cmdEndpoints(args []string) error {
	return withClient(args, 1, "endpoints <target>", func(cli *clientv3.Client) error {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		m, err := endpoints.NewManager(cli, args[0])
		if err != nil {
			return err
		}
		return serve(handlers{
			"add": func(arg string) (string, error) {
				key, value, _ := strings.Cut(arg, " ")
				var ep endpoints.Endpoint
				if err := json.Unmarshal([]byte(value), &ep); err != nil {
					return "", err
				}
				return "added " + key, m.AddEndpoint(ctx, key, ep)
			},
			"delete": func(key string) (string, error) {
				return "deleted " + key, m.DeleteEndpoint(ctx, key)
			},
			"list": func(string) (string, error) {
				eps, err := m.List(ctx)
				if err != nil {
					return "", err
				}
				out, err := json.Marshal(eps)
				return "list " + string(out), err
			},
			"watch": func(string) (string, error) {
				wch, err := m.NewWatchChannel(ctx)
				if err != nil {
					return "", err
				}
				go func() {
					for ups := range wch {
						out, _ := json.Marshal(ups)
						emit("updates %s", out)
					}
				}()
				return "watching", nil
			},
		})
	})
}
