// Go's leasing KV, driven over stdin (see serve() in main.go): the Go side of
// test/integration/leasing.test.ts.
//
//	leasing <prefix>
//	  get <key>          -> value <key> <value> <mod revision>, or missing <key>   (a linearizable Get: acquires the key)
//	  put <key> <value>  -> put <key> <revision>      (revokes other holders first)
//	  delete <key>       -> deleted <key> <count>
package main

import (
	"context"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/leasing"
)

func init() {
	register("leasing", leasingKV)
}

func leasingKV(args []string) error {
	return withClient(args, 1, "leasing <prefix>", func(cli *clientv3.Client) error {
		kv, closeKV, err := leasing.NewKV(cli, args[0])
		if err != nil {
			return err
		}
		defer closeKV()
		ctx := context.Background()
		commands := writeHandlers(ctx, kv)
		commands["get"] = func(key string) (string, error) {
			r, err := kv.Get(ctx, key)
			if err != nil {
				return "", err
			}
			if len(r.Kvs) == 0 {
				return "missing " + key, nil
			}
			return fmt.Sprintf("value %s %s %d", key, r.Kvs[0].Value, r.Kvs[0].ModRevision), nil
		}
		return serve(commands)
	})
}
