// Go clientv3 as a client of bench/run.ts: the same workloads, with the same definitions
// (shared/reference/benchmarks.md), against the etcd in ETCD_ENDPOINTS, printed as one JSON line
// per workload in bench/run.ts's schema. bench/go-client.ts runs it, once per run, on a fresh etcd.
//
//	bench --run <n> --metrics <http://host:port/metrics> [--workloads put-seq,put-conc,...]
//
// As on the Node side: one client object for the workloads, an untimed warm-up (1,000 puts and
// 1,000 gets at 64 in flight), untimed setup (the settle step, the 10,000 keys of range-10k)
// and untimed checks (leases lost) done outside the timed window, settling and checks through a
// second client. Latency is wall time around each call; percentiles are nearest-rank; client CPU
// is getrusage(RUSAGE_SELF) of this process (all its threads) over the timed window, like
// process.cpuUsage(). Each call gets a 60 s timeout, as the Node clients are configured with.
// This is a measurement, not a test: it prints what it saw and never asserts a speed.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"net/http"
	"os"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

func init() {
	register("bench", benchMain)
}

// benchCallTimeout bounds each call, like the Node clients' `timeout: 60_000`.
const benchCallTimeout = 60 * time.Second

// benchWorkloads are the workloads this client runs, in bench/run.ts's default order.
var benchWorkloads = []string{"put-seq", "put-conc", "get-conc", "get-serializable-conc", "range-10k", "txn-conc", "watch-throughput", "lease-keepalive", "lease-keepalive-ttl5"}

// benchValue is every value written: 256 bytes.
var benchValue = strings.Repeat("v", 256)

// benchResult is one workload's measurement, before it is printed.
type benchResult struct {
	workload    string
	ops         int
	concurrency int
	wall        time.Duration
	latencies   []time.Duration
	cpu         time.Duration
	errors      int
	extra       []benchField
}

// benchField is one extra field of a result line, printed in order.
type benchField struct {
	name  string
	value float64
}

func benchMain(args []string) error {
	flags := flag.NewFlagSet("bench", flag.ContinueOnError)
	run := flags.Int("run", 1, "the run number printed in each line")
	metricsURL := flags.String("metrics", "", "etcd's /metrics URL, for the keep-alive counters")
	workloads := flags.String("workloads", strings.Join(benchWorkloads[:8], ","), "comma-separated workloads")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if flags.NArg() != 0 || *metricsURL == "" {
		return fmt.Errorf("usage: bench --run <n> --metrics <url> [--workloads a,b,...]")
	}
	for _, w := range strings.Split(*workloads, ",") {
		if !benchKnown(w) {
			return fmt.Errorf("unknown workload %s; known: %s", w, strings.Join(benchWorkloads, ", "))
		}
	}
	cli, err := connect()
	if err != nil {
		return err
	}
	defer cli.Close()
	admin, err := connect()
	if err != nil {
		return err
	}
	defer admin.Close()
	b := &bencher{cli: cli, admin: admin, run: *run, metricsURL: *metricsURL,
		base: fmt.Sprintf("bench/go-clientv3/%d-%d", os.Getpid(), time.Now().UnixMilli())}
	return b.all(strings.Split(*workloads, ","))
}

func benchKnown(workload string) bool {
	for _, w := range benchWorkloads {
		if w == workload {
			return true
		}
	}
	return false
}

// bencher holds what the workloads of one run share.
type bencher struct {
	cli, admin   *clientv3.Client
	run          int
	metricsURL   string
	base         string
	modRevisions []int64
}

func (b *bencher) key(group string, i int) string {
	return fmt.Sprintf("%s/%s/%08d", b.base, group, i)
}

// call runs fn with a context bounded by benchCallTimeout.
func benchCall(fn func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), benchCallTimeout)
	defer cancel()
	return fn(ctx)
}

func (b *bencher) put(key string) (int64, error) {
	var revision int64
	err := benchCall(func(ctx context.Context) error {
		r, err := b.cli.Put(ctx, key, benchValue)
		if err == nil {
			revision = r.Header.Revision
		}
		return err
	})
	return revision, err
}

func (b *bencher) all(workloads []string) error {
	// Untimed warm-up: 1,000 puts and 1,000 gets at 64 in flight.
	benchPool(1000, 64, func(i int) error { _, err := b.put(b.key("warm", i)); return err })
	benchPool(1000, 64, func(i int) error {
		return benchCall(func(ctx context.Context) error { _, err := b.cli.Get(ctx, b.key("warm", i)); return err })
	})
	for _, workload := range workloads {
		r, err := b.workload(workload)
		if err != nil {
			return fmt.Errorf("%s: %w", workload, err)
		}
		b.report(r)
	}
	return nil
}

// settle is the untimed step before the read workloads: grant a lease, wait 300 ms, revoke it,
// wait 300 ms (through the second client).
func (b *bencher) settle() error {
	return benchCall(func(ctx context.Context) error {
		lease, err := b.admin.Grant(ctx, 10)
		if err != nil {
			return err
		}
		time.Sleep(300 * time.Millisecond)
		if _, err := b.admin.Revoke(ctx, lease.ID); err != nil {
			return err
		}
		time.Sleep(300 * time.Millisecond)
		return nil
	})
}

func (b *bencher) workload(workload string) (benchResult, error) {
	switch workload {
	case "put-seq":
		return benchMeasure(workload, 2000, 1, func() ([]time.Duration, int, []benchField) {
			latencies, errors := benchPool(2000, 1, func(i int) error { _, err := b.put(b.key("seq", i)); return err })
			return latencies, errors, nil
		}), nil
	case "put-conc":
		b.modRevisions = make([]int64, 20000)
		return benchMeasure(workload, 20000, 64, func() ([]time.Duration, int, []benchField) {
			latencies, errors := benchPool(20000, 64, func(i int) (err error) {
				b.modRevisions[i], err = b.put(b.key("conc", i))
				return err
			})
			return latencies, errors, nil
		}), nil
	case "get-conc", "get-serializable-conc":
		if err := b.settle(); err != nil {
			return benchResult{}, err
		}
		var opts []clientv3.OpOption
		if workload == "get-serializable-conc" {
			opts = append(opts, clientv3.WithSerializable())
		}
		return benchMeasure(workload, 20000, 64, func() ([]time.Duration, int, []benchField) {
			latencies, errors := benchPool(20000, 64, func(i int) error {
				return benchCall(func(ctx context.Context) error {
					r, err := b.cli.Get(ctx, b.key("conc", i), opts...)
					if err != nil {
						return err
					}
					if len(r.Kvs) != 1 || len(r.Kvs[0].Value) != 256 {
						return fmt.Errorf("bad value")
					}
					return nil
				})
			})
			return latencies, errors, nil
		}), nil
	case "range-10k":
		if _, errors := benchPool(10000, 64, func(i int) error { _, err := b.put(b.key("range", i)); return err }); errors > 0 {
			return benchResult{}, fmt.Errorf("%d of the 10,000 untimed puts failed", errors)
		}
		if err := b.settle(); err != nil {
			return benchResult{}, err
		}
		prefix := b.base + "/range/"
		var size int
		r := benchMeasure(workload, 20, 1, func() ([]time.Duration, int, []benchField) {
			latencies, errors := benchPool(20, 1, func(int) error {
				return benchCall(func(ctx context.Context) error {
					r, err := b.cli.Get(ctx, prefix, clientv3.WithPrefix())
					if err != nil {
						return err
					}
					if len(r.Kvs) != 10000 {
						return fmt.Errorf("got %d kvs", len(r.Kvs))
					}
					n := 0
					for _, kv := range r.Kvs {
						n += len(kv.Key) + len(kv.Value)
					}
					size = n
					return nil
				})
			})
			return latencies, errors, nil
		})
		r.extra = []benchField{
			{"ms_per_range", r.wall.Seconds() * 1000 / 20},
			{"mb_per_s", float64(size) * 20 / 1e6 / r.wall.Seconds()},
		}
		return r, nil
	case "txn-conc":
		if len(b.modRevisions) == 0 {
			return benchResult{}, fmt.Errorf("txn-conc needs put-conc first")
		}
		return benchMeasure(workload, 10000, 64, func() ([]time.Duration, int, []benchField) {
			latencies, errors := benchPool(10000, 64, func(i int) error {
				return benchCall(func(ctx context.Context) error {
					k := b.key("conc", i)
					r, err := b.cli.Txn(ctx).
						If(clientv3.Compare(clientv3.ModRevision(k), "=", b.modRevisions[i])).
						Then(clientv3.OpPut(k, benchValue)).
						Commit()
					if err != nil {
						return err
					}
					if !r.Succeeded {
						return fmt.Errorf("txn failed")
					}
					return nil
				})
			})
			return latencies, errors, nil
		}), nil
	case "watch-throughput":
		return b.watchThroughput(workload)
	case "lease-keepalive", "lease-keepalive-ttl5":
		return b.leaseKeepAlive(workload)
	}
	return benchResult{}, fmt.Errorf("unknown workload")
}

// watchThroughput: one prefix watcher, confirmed created first; then 20,000 puts at 64 in
// flight; the window ends when the watcher has seen all 20,000 events; latency is from put
// issued to event seen.
func (b *bencher) watchThroughput(workload string) (benchResult, error) {
	const count = 20000
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	watch := b.cli.Watch(ctx, b.base+"/watch/", clientv3.WithPrefix(), clientv3.WithCreatedNotify())
	select {
	case created, ok := <-watch:
		if !ok || !created.Created {
			return benchResult{}, fmt.Errorf("watch not created: %v", created.Err())
		}
	case <-time.After(benchCallTimeout):
		return benchResult{}, fmt.Errorf("watch not created within %v", benchCallTimeout)
	}
	origin := time.Now()
	issued := make([]int64, count) // ns since origin, written before each put, read by the watcher
	seen := make([]time.Duration, 0, count)
	done := make(chan struct{})
	watching := make(chan error, 1)
	go func() {
		for response := range watch {
			if err := response.Err(); err != nil {
				watching <- err
				return
			}
			now := int64(time.Since(origin))
			for _, event := range response.Events {
				if event.Type != clientv3.EventTypePut {
					continue
				}
				key := string(event.Kv.Key)
				i, err := strconv.Atoi(key[len(key)-8:])
				if err != nil {
					watching <- err
					return
				}
				seen = append(seen, time.Duration(now-atomic.LoadInt64(&issued[i])))
				if len(seen) == count {
					close(done)
				}
			}
		}
		watching <- fmt.Errorf("watch ended before all events were seen")
	}()
	var failure error
	r := benchMeasure(workload, count, 64, func() ([]time.Duration, int, []benchField) {
		_, errors := benchPool(count, 64, func(i int) error {
			atomic.StoreInt64(&issued[i], int64(time.Since(origin)))
			_, err := b.put(b.key("watch", i))
			return err
		})
		select {
		case <-done:
		case failure = <-watching:
		case <-time.After(benchCallTimeout):
			failure = fmt.Errorf("the watcher did not see all %d events within %v of the last put (%d puts failed)", count, benchCallTimeout, errors)
		}
		if failure != nil {
			return nil, errors, nil
		}
		return seen, errors, nil
	})
	if failure != nil {
		return benchResult{}, failure
	}
	r.extra = []benchField{{"events_per_s", count / r.wall.Seconds()}}
	return r, nil
}

// leaseKeepAlive: grant 1,000 leases (64 in flight) and keep them alive, hold the window after
// the last grant; then count keep-alive messages and streams etcd received (its metrics) and
// the leases lost (TimeToLive through the second client), and revoke them.
func (b *bencher) leaseKeepAlive(workload string) (benchResult, error) {
	ttl, hold := int64(30), 10*time.Second
	if workload == "lease-keepalive-ttl5" {
		ttl, hold = 5, 20*time.Second
	}
	sentBefore, err := b.metric("grpc_server_msg_received_total")
	if err != nil {
		return benchResult{}, err
	}
	streamsBefore, err := b.metric("grpc_server_started_total")
	if err != nil {
		return benchResult{}, err
	}
	keepAlive, stop := context.WithCancel(context.Background())
	defer stop()
	var mu sync.Mutex
	var ids []clientv3.LeaseID
	r := benchMeasure(workload, 1000, 64, func() ([]time.Duration, int, []benchField) {
		_, errors := benchPool(1000, 64, func(int) error {
			var id clientv3.LeaseID
			err := benchCall(func(ctx context.Context) error {
				lease, err := b.cli.Grant(ctx, ttl)
				if err == nil {
					id = lease.ID
				}
				return err
			})
			if err != nil {
				return err
			}
			responses, err := b.cli.KeepAlive(keepAlive, id)
			if err != nil {
				return err
			}
			// clientv3 wants each keep-alive channel drained.
			go func() {
				for range responses {
				}
			}()
			mu.Lock()
			ids = append(ids, id)
			mu.Unlock()
			return nil
		})
		time.Sleep(hold)
		return nil, errors, nil
	})
	lost := 0
	for _, id := range ids {
		err := benchCall(func(ctx context.Context) error {
			t, err := b.admin.TimeToLive(ctx, id)
			if err == nil && t.TTL <= 0 {
				lost++
			}
			return err
		})
		if err != nil {
			return benchResult{}, err
		}
	}
	sentAfter, err := b.metric("grpc_server_msg_received_total")
	if err != nil {
		return benchResult{}, err
	}
	streamsAfter, err := b.metric("grpc_server_started_total")
	if err != nil {
		return benchResult{}, err
	}
	r.extra = []benchField{
		{"keepalive_sent", sentAfter - sentBefore},
		{"keepalive_streams", streamsAfter - streamsBefore},
		{"leases_lost", float64(lost)},
	}
	stop()
	benchPool(len(ids), 64, func(i int) error {
		return benchCall(func(ctx context.Context) error { _, err := b.admin.Revoke(ctx, ids[i]); return err })
	})
	return r, nil
}

var benchMetricLine = regexp.MustCompile(`^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)`)

// metric sums the values of etcd's metric `name` for grpc_method="LeaseKeepAlive", as the
// harness's etcd.metric() does for the Node clients.
func (b *bencher) metric(name string) (float64, error) {
	response, err := http.Get(b.metricsURL)
	if err != nil {
		return 0, err
	}
	defer response.Body.Close()
	if response.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: %s", b.metricsURL, response.Status)
	}
	sum := 0.0
	scanner := bufio.NewScanner(response.Body)
	for scanner.Scan() {
		m := benchMetricLine.FindStringSubmatch(scanner.Text())
		if m == nil || m[1] != name || !strings.Contains(m[2], `grpc_method="LeaseKeepAlive"`) {
			continue
		}
		v, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			return 0, err
		}
		sum += v
	}
	return sum, scanner.Err()
}

// benchPool runs count operations with concurrency goroutines in flight, timing each call.
func benchPool(count, concurrency int, fn func(i int) error) ([]time.Duration, int) {
	latencies := make([]time.Duration, count)
	var next, errors int64 = -1, 0
	var wg sync.WaitGroup
	workers := concurrency
	if count < workers {
		workers = count
	}
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(atomic.AddInt64(&next, 1))
				if i >= count {
					return
				}
				started := time.Now()
				if err := fn(i); err != nil {
					atomic.AddInt64(&errors, 1)
				}
				latencies[i] = time.Since(started)
			}
		}()
	}
	wg.Wait()
	return latencies, int(errors)
}

// benchMeasure times body's window: wall time, and this process's CPU time (user + system).
func benchMeasure(workload string, ops, concurrency int, body func() ([]time.Duration, int, []benchField)) benchResult {
	cpuBefore := benchCPU()
	started := time.Now()
	latencies, errors, extra := body()
	wall := time.Since(started)
	return benchResult{workload: workload, ops: ops, concurrency: concurrency, wall: wall,
		latencies: latencies, cpu: benchCPU() - cpuBefore, errors: errors, extra: extra}
}

// benchCPU is the CPU time this process (all its threads) has used so far.
func benchCPU() time.Duration {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		panic(err)
	}
	return time.Duration(usage.Utime.Nano() + usage.Stime.Nano())
}

// benchPercentile is the nearest-rank percentile p of sorted, in ms.
func benchPercentile(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	if i > len(sorted)-1 {
		i = len(sorted) - 1
	}
	if i < 0 {
		i = 0
	}
	return float64(sorted[i]) / 1e6
}

// benchRound rounds to 3 decimals, like bench/run.ts's round().
func benchRound(x float64) float64 { return math.Round(x*1000) / 1000 }

// report prints r as one JSON line with bench/run.ts's fields, in its order.
func (b *bencher) report(r benchResult) {
	sorted := append([]time.Duration(nil), r.latencies...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	wall := r.wall.Seconds()
	cpu := r.cpu.Seconds()
	fields := []struct {
		name  string
		value interface{}
	}{
		{"client", "go-clientv3"},
		{"client_version", "3.5.16"},
		{"runtime", runtime.Version()},
		{"run", b.run},
		{"workload", r.workload},
		{"ops", r.ops},
		{"concurrency", r.concurrency},
		{"wall_s", benchRound(wall)},
		{"ops_per_s", benchRound(float64(r.ops) / wall)},
		{"p50_ms", benchRound(benchPercentile(sorted, 50))},
		{"p99_ms", benchRound(benchPercentile(sorted, 99))},
		{"client_cpu_s", benchRound(cpu)},
		{"client_cpu_util", benchRound(cpu / wall)},
		{"errors", r.errors},
	}
	for _, f := range r.extra {
		fields = append(fields, struct {
			name  string
			value interface{}
		}{f.name, benchRound(f.value)})
	}
	var line strings.Builder
	line.WriteString("{")
	for i, f := range fields {
		if i > 0 {
			line.WriteString(",")
		}
		name, _ := json.Marshal(f.name)
		value, _ := json.Marshal(f.value)
		line.Write(name)
		line.WriteString(":")
		line.Write(value)
	}
	line.WriteString("}")
	emit("%s", line.String())
}
