// Go's side of test/integration/mirror.test.ts, driven over stdin (see serve() in main.go): a
// Go client writing to a mirror's source, and Go's mirror.Syncer reading its base.
//
//	mirror
//	  put <key> <value>  -> put <key> <revision>
//	  delete <key>       -> deleted <key> <count>
//	  base <prefix>      -> base <revision> <json list of the keys>   (mirror.NewSyncer(cli, prefix, 0).SyncBase)
package main

import (
	"context"
	"encoding/json"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/mirror"
)

func init() {
	register("mirror", mirrorPeer)
}

func mirrorPeer(args []string) error {
	return withClient(args, 0, "mirror", func(cli *clientv3.Client) error {
		ctx := context.Background()
		commands := writeHandlers(ctx, cli)
		commands["base"] = func(prefix string) (string, error) {
			s := mirror.NewSyncer(cli, prefix, 0)
			pages, errc := s.SyncBase(ctx)
			keys := []string{}
			var rev int64
			for page := range pages {
				rev = page.Header.Revision
				for _, kv := range page.Kvs {
					keys = append(keys, string(kv.Key))
				}
			}
			if err := <-errc; err != nil {
				return "", err
			}
			out, err := json.Marshal(keys)
			return fmt.Sprintf("base %d %s", rev, out), err
		}
		return serve(commands)
	})
}
