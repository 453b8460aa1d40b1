// Package bench measures the helper as users run it: one process per `get`. Run with
//
//	cd bench && go test -run '^$' -bench . -benchtime 1x .
//
// It builds the helper and two baselines with the release flags, runs them side by side in one
// run (paired, order rotated, so a noisy machine slows all three alike), and reports medians and
// ratios. Every process talks only to a loopback fake of the Alibaba Cloud API.
package bench

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit"
	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit/fakecloud"
)

const releaseFlags = "-s -w -buildid="

var bins struct {
	once                 sync.Once
	dir                  string
	helper, floor, hello string
	err                  error
}

func build(b *testing.B) {
	bins.once.Do(func() {
		bins.dir, bins.err = os.MkdirTemp("", "dca-bench-")
		if bins.err != nil {
			return
		}
		for _, t := range []struct {
			out *string
			pkg string
		}{{&bins.helper, ".."}, {&bins.floor, "./floor"}, {&bins.hello, "./hello"}} {
			*t.out = filepath.Join(bins.dir, filepath.Base(t.pkg))
			if t.pkg == ".." {
				*t.out = filepath.Join(bins.dir, "docker-credential-acr")
			}
			cmd := exec.Command("go", "build", "-trimpath", "-ldflags", releaseFlags, "-o", *t.out, t.pkg)
			if t.pkg == ".." {
				// The helper is the parent module; bench is a module of its own so that
				// `go install ./...` at the root installs only the helper.
				cmd = exec.Command("go", "build", "-trimpath", "-ldflags", releaseFlags, "-o", *t.out, ".")
				cmd.Dir = ".."
			}
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				bins.err = fmt.Errorf("build %s: %v\n%s", t.pkg, err, out)
				return
			}
		}
	})
	if bins.err != nil {
		b.Fatal(bins.err)
	}
}

// world is the shared test world (testdata/world.json) in a running fake, with a clean
// environment for the processes.
type world struct {
	fc   *fakecloud.Server
	home string
	env  []string
}

func newWorld(b *testing.B, latency time.Duration) *world {
	fc, tw := testkit.StartFake(b)
	fc.SetLatency(latency)
	team, cross, cross2 := tw.Instance("team"), tw.Instance("cross"), tw.Instance("cross2")
	svc, usr := tw.Role("role-assume").ARN(), tw.Role("role-acr").ARN()
	home := b.TempDir()
	cfg := filepath.Join(home, "config.yaml")
	os.WriteFile(cfg, []byte(`
registries:
  - domains: [`+team.CustomDomains[0]+`]
    instanceId: `+team.ID+`
    regionId: `+team.Region+`
  - domains: [`+cross.CustomDomains[0]+`, cross2-registry.`+cross2.Region+`.cr.aliyuncs.com]
    instanceId: `+cross.ID+`
    regionId: `+cross.Region+`
    arnService: `+svc+`
    arnUser: `+usr+`
  - domains: [cross2.example.com]
    instanceId: `+cross2.ID+`
    regionId: `+cross2.Region+`
    arnService: `+svc+`
    arnUser: `+usr+`
`), 0o600)
	env, _ := testkit.ChildEnv(home)
	dev := tw.User("dev")
	for k, v := range map[string]string{
		"DOCKER_CREDENTIAL_ACR_CONFIG":      cfg,
		"DOCKER_CREDENTIAL_ACR_CR_ENDPOINT": "http://" + fc.Endpoint(),
		"ALIBABA_CLOUD_STS_ENDPOINT":        "http://" + fc.Endpoint(),
		"ALIBABA_CLOUD_ACCESS_KEY_ID":       dev.AccessKeyID,
		"ALIBABA_CLOUD_ACCESS_KEY_SECRET":   dev.AccessKeySecret,
	} {
		env[k] = v
	}
	return &world{fc: fc, home: home, env: testkit.Environ(env)}
}

type run struct {
	wall time.Duration
}

func (w *world) exec(b *testing.B, bin, host string) run {
	cmd := exec.Command(bin, "get")
	cmd.Env = w.env
	cmd.Stdin = strings.NewReader(host)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	t0 := time.Now()
	err := cmd.Run()
	wall := time.Since(t0)
	if err != nil || !bytes.Contains(out.Bytes(), []byte(`"Secret"`)) {
		b.Fatalf("%s get %s: %v\nstdout %s\nstderr %s", filepath.Base(bin), host, err, out.String(), errb.String())
	}
	return run{wall: wall}
}

// peakRSS runs bin under GNU time and returns its peak RSS in KiB. (The rusage of a child that
// Go starts is useless here: Go clones with CLONE_VM, so the child's high-water mark starts at the
// parent's.)
func (w *world) peakRSS(b *testing.B, bin, host string) int64 {
	out := filepath.Join(b.TempDir(), "rss")
	cmd := exec.Command("/usr/bin/time", "-f", "%M", "-o", out, bin, "get")
	cmd.Env = w.env
	cmd.Stdin = strings.NewReader(host)
	if err := cmd.Run(); err != nil {
		b.Fatalf("%s: %v", bin, err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		b.Fatal(err)
	}
	kb, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
	if err != nil {
		b.Fatalf("GNU time said %q", data)
	}
	return kb
}

func median[T int64 | float64 | time.Duration](xs []T) T {
	s := append([]T(nil), xs...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// BenchmarkCachedGet: a cached `get` against the two baselines, paired.
func BenchmarkCachedGet(b *testing.B) {
	build(b)
	w := newWorld(b, 0)
	host := "registry.cn-hangzhou.aliyuncs.com"
	w.exec(b, bins.helper, host) // warm the cache
	calls := w.fc.Count("GetAuthorizationToken")
	const pairs = 201
	var wallH, wallF, wallB []time.Duration
	var rssH, rssF, rssB []int64
	var rWallF, rWallB, rRssF, rRssB []float64
	b.ResetTimer()
	for i := 0; i < pairs; i++ {
		var h, f, hb run
		switch i % 3 { // rotate the order
		case 0:
			h, f, hb = w.exec(b, bins.helper, host), w.exec(b, bins.floor, host), w.exec(b, bins.hello, host)
		case 1:
			f, hb, h = w.exec(b, bins.floor, host), w.exec(b, bins.hello, host), w.exec(b, bins.helper, host)
		default:
			hb, h, f = w.exec(b, bins.hello, host), w.exec(b, bins.helper, host), w.exec(b, bins.floor, host)
		}
		wallH, wallF, wallB = append(wallH, h.wall), append(wallF, f.wall), append(wallB, hb.wall)
		rWallF = append(rWallF, float64(h.wall)/float64(f.wall))
		rWallB = append(rWallB, float64(h.wall)/float64(hb.wall))
	}
	_, errTime := os.Stat("/usr/bin/time")
	for i := 0; errTime == nil && i < 31; i++ {
		h, f, hb := w.peakRSS(b, bins.helper, host), w.peakRSS(b, bins.floor, host), w.peakRSS(b, bins.hello, host)
		rssH, rssF, rssB = append(rssH, h), append(rssF, f), append(rssB, hb)
		rRssF = append(rRssF, float64(h)/float64(f))
		rRssB = append(rRssB, float64(h)/float64(hb))
	}
	b.StopTimer()
	if n := w.fc.Count("GetAuthorizationToken"); n != calls {
		b.Fatalf("cached gets made %d token calls", n-calls)
	}
	b.ReportMetric(float64(median(wallH).Microseconds())/1000, "helper-ms")
	b.ReportMetric(float64(median(wallF).Microseconds())/1000, "floor-ms")
	b.ReportMetric(float64(median(wallB).Microseconds())/1000, "hello-ms")
	b.ReportMetric(median(rWallF), "wall/floor")
	b.ReportMetric(median(rWallB), "wall/hello")
	if errTime != nil {
		b.Log("no /usr/bin/time (Debian package time): peak RSS not measured")
		return
	}
	b.ReportMetric(float64(median(rssH)), "helper-rss-KB")
	b.ReportMetric(float64(median(rssF)), "floor-rss-KB")
	b.ReportMetric(float64(median(rssB)), "hello-rss-KB")
	b.ReportMetric(median(rRssF), "rss/floor")
	b.ReportMetric(median(rRssB), "rss/hello")
}

// BenchmarkColdGet: API calls and wall time of a cold `get` per scenario, with a fixed latency
// injected into every fake API call so that round trips show.
func BenchmarkColdGet(b *testing.B) {
	build(b)
	const latency = 50 * time.Millisecond
	scenarios := []struct {
		name  string
		hosts []string // gets in order; the figures are for the last one
	}{
		{"personal", []string{"registry.cn-hangzhou.aliyuncs.com"}},
		{"enterprise-known-instance", []string{"registry.example.com"}},
		{"arnservice-arnuser", []string{"cross.example.com"}},
		{"second-host-same-instance-behind-chain", []string{"cross.example.com", "cross2-registry.cn-shanghai.cr.aliyuncs.com"}},
		{"second-instance-behind-chain", []string{"cross.example.com", "cross2.example.com"}},
	}
	for _, sc := range scenarios {
		b.Run(sc.name, func(b *testing.B) {
			var walls []time.Duration
			var calls []int64
			for i := 0; i < 7; i++ {
				w := newWorld(b, latency)
				for _, h := range sc.hosts[:len(sc.hosts)-1] {
					w.exec(b, bins.helper, h)
				}
				before := len(w.fc.Calls())
				r := w.exec(b, bins.helper, sc.hosts[len(sc.hosts)-1])
				walls = append(walls, r.wall)
				calls = append(calls, int64(len(w.fc.Calls())-before))
			}
			b.ReportMetric(float64(median(calls)), "api-calls")
			b.ReportMetric(float64(median(walls).Microseconds())/1000, "wall-ms")
			b.ReportMetric(float64(latency.Milliseconds()), "latency-per-call-ms")
		})
	}
}

// BenchmarkColdPersonalOverhead: the helper's own time on a cold Personal `get` (a fresh cache
// directory each run), that is the wall time minus the API latency injected into the one call
// (50 ms). Runs are paired with a second binary when DCA_BENCH_BASELINE names one (e.g. the helper
// built from main), order alternated, so that a noisy machine slows both alike; it reports the
// medians of each and of the per-pair ratio. (mozillazg's helper, the reference of issue 20, is not
// on the module proxy: its figure, 17 ms of overhead, is from the issue's own run.)
func BenchmarkColdPersonalOverhead(b *testing.B) {
	build(b)
	const latency = 50 * time.Millisecond
	const pairs = 41
	baseline := os.Getenv("DCA_BENCH_BASELINE")
	w := newWorld(b, latency)
	host := "registry.cn-hangzhou.aliyuncs.com"
	cold := func(bin string) time.Duration {
		// A fresh cache directory: the token call, the lock, the entry write, the first prune.
		dir, err := os.MkdirTemp(w.home, "cache-")
		if err != nil {
			b.Fatal(err)
		}
		defer os.RemoveAll(dir)
		env := append(append([]string(nil), w.env...), "DOCKER_CREDENTIAL_ACR_CACHE_DIR="+filepath.Join(dir, "c"))
		cmd := exec.Command(bin, "get")
		cmd.Env = env
		cmd.Stdin = strings.NewReader(host)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		t0 := time.Now()
		err = cmd.Run()
		wall := time.Since(t0)
		if err != nil || !bytes.Contains(out.Bytes(), []byte(`"Secret"`)) {
			b.Fatalf("%s get %s: %v\nstdout %s\nstderr %s", bin, host, err, out.String(), errb.String())
		}
		return wall - latency
	}
	var mine, base []time.Duration
	var ratio []float64
	calls := w.fc.Count("GetAuthorizationToken")
	b.ResetTimer()
	for i := 0; i < pairs; i++ {
		if baseline == "" {
			mine = append(mine, cold(bins.helper))
			continue
		}
		var m, o time.Duration
		if i%2 == 0 {
			m, o = cold(bins.helper), cold(baseline)
		} else {
			o, m = cold(baseline), cold(bins.helper)
		}
		mine, base, ratio = append(mine, m), append(base, o), append(ratio, float64(m)/float64(o))
	}
	b.StopTimer()
	runs := pairs
	if baseline != "" {
		runs *= 2
	}
	if n := w.fc.Count("GetAuthorizationToken") - calls; n != runs {
		b.Fatalf("%d token calls for %d cold gets", n, runs)
	}
	b.ReportMetric(float64(median(mine).Microseconds())/1000, "overhead-ms")
	if baseline != "" {
		b.ReportMetric(float64(median(base).Microseconds())/1000, "baseline-overhead-ms")
		b.ReportMetric(median(ratio), "overhead/baseline")
	}
	b.ReportMetric(float64(latency.Milliseconds()), "latency-ms")
}

// BenchmarkConcurrentColdGets: 32 processes start a cold `get` for one registry at once.
func BenchmarkConcurrentColdGets(b *testing.B) {
	build(b)
	const n = 32
	var callsPerRound, slowest []float64
	for round := 0; round < 5; round++ {
		w := newWorld(b, 50*time.Millisecond)
		var wg sync.WaitGroup
		walls := make([]time.Duration, n)
		start := make(chan struct{})
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				<-start
				walls[i] = w.exec(b, bins.helper, "registry.example.com").wall
			}(i)
		}
		close(start)
		wg.Wait()
		callsPerRound = append(callsPerRound, float64(w.fc.Count("GetAuthorizationToken")))
		sort.Slice(walls, func(i, j int) bool { return walls[i] < walls[j] })
		slowest = append(slowest, float64(walls[n-1].Microseconds())/1000)
	}
	b.ReportMetric(median(callsPerRound), "token-calls")
	b.ReportMetric(median(slowest), "slowest-ms")
	b.ReportMetric(n, "processes")
}

// BenchmarkBinarySize reports the size of the release build.
func BenchmarkBinarySize(b *testing.B) {
	build(b)
	for _, p := range []struct{ name, path string }{{"helper", bins.helper}, {"floor", bins.floor}, {"hello", bins.hello}} {
		fi, err := os.Stat(p.path)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(fi.Size())/(1<<20), p.name+"-MiB")
	}
	b.ReportMetric(float64(runtime.NumCPU()), "cpus")
}
