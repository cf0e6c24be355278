// Go's ordering KV, driven over stdin (see serve() in main.go): the Go side of
// test/integration/ordering.test.ts, reading through ordering.NewKV with
// NewOrderViolationSwitchEndpointClosure over the endpoints in ETCD_ENDPOINTS.
//
//	ordering
//	  get <key>  -> value <header revision> <value>, or error <message>   (a serializable Get)
package main

import (
	"context"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/ordering"
)

func init() {
	register("ordering", orderingKV)
}

func orderingKV(args []string) error {
	return withClient(args, 0, "ordering", func(cli *clientv3.Client) error {
		kv := ordering.NewKV(cli.KV, ordering.NewOrderViolationSwitchEndpointClosure(cli))
		return serve(handlers{
			"get": func(key string) (string, error) {
				r, err := kv.Get(context.Background(), key, clientv3.WithSerializable())
				if err != nil {
					return "error " + err.Error(), nil
				}
				if len(r.Kvs) == 0 {
					return fmt.Sprintf("value %d", r.Header.Revision), nil
				}
				return fmt.Sprintf("value %d %s", r.Header.Revision, r.Kvs[0].Value), nil
			},
		})
	})
}
