package cache

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Environment of the helper processes.
const (
	envHelper  = "CACHE_TEST_HELPER" // mode: "singleflight" or "writer"
	envDir     = "CACHE_TEST_DIR"
	envCounter = "CACHE_TEST_COUNTER"
	envKeyID   = "CACHE_TEST_KEYID"
	envWaitDir = "CACHE_TEST_WAITDIR" // a file <keyID>-<pid> per process waiting for a lock
	envPeers   = "CACHE_TEST_PEERS"   // how many other processes share the key
)

// helperCmd re-executes the test binary as a helper process.
func helperCmd(t *testing.T, mode string, env ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1", "-test.timeout=60s")
	cmd.Env = append(os.Environ(), append([]string{envHelper + "=" + mode}, env...)...)
	return cmd
}

// TestHelperProcess is not a test: it is the body of the helper processes
// started by the multi-process tests.
func TestHelperProcess(t *testing.T) {
	switch os.Getenv(envHelper) {
	case "":
		return
	case "singleflight":
		helperSingleFlight(t)
	case "writer":
		helperWriter(t)
	case "open":
		if _, err := Open(os.Getenv(envDir)); err != nil {
			fmt.Println("OPEN-ERROR", err)
		} else {
			fmt.Println("OPEN-OK")
		}
	default:
		t.Fatal("unknown helper mode")
	}
}

// helperSingleFlight announces READY, waits for a byte on stdin (the start
// barrier), then calls GetOrFetch on a cold key. The first time it finds the
// lock held it leaves a file in the wait directory; fetch appends a line to
// the counter file and returns only once every peer of its key is waiting
// for the lock (so the test proves single flight under real contention).
func helperSingleFlight(t *testing.T) {
	s, err := Open(os.Getenv(envDir))
	if err != nil {
		t.Fatal(err)
	}
	keyID := os.Getenv(envKeyID)
	key := Key("singleflight", keyID)
	waitDir := os.Getenv(envWaitDir)
	peers, err := strconv.Atoi(os.Getenv(envPeers))
	if err != nil {
		t.Fatal(err)
	}
	announced := false
	s.waitHook = func(context.Context) {
		if !announced {
			announced = true
			if err := os.WriteFile(filepath.Join(waitDir, fmt.Sprintf("%s-%d", keyID, os.Getpid())), nil, 0o600); err != nil {
				t.Error(err)
			}
		}
	}
	peersWaiting := func(ctx context.Context) error {
		for {
			names, err := filepath.Glob(filepath.Join(waitDir, keyID+"-*"))
			if err != nil {
				return err
			}
			if len(names) >= peers {
				return nil
			}
			if err := sleepCtx(ctx, time.Millisecond); err != nil {
				return fmt.Errorf("%d of %d peers waiting: %w", len(names), peers, err)
			}
		}
	}
	fmt.Println("READY")
	if _, err := os.Stdin.Read(make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	e, src, err := s.GetOrFetch(ctx, key, "reg.example", time.Minute, func(context.Context) (Entry, error) {
		f, err := os.OpenFile(os.Getenv(envCounter), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return Entry{}, err
		}
		_, err = fmt.Fprintf(f, "%s %d\n", keyID, os.Getpid())
		f.Close()
		if err != nil {
			return Entry{}, err
		}
		if err := peersWaiting(ctx); err != nil {
			return Entry{}, err
		}
		now := time.Now()
		return Entry{Username: "u", Secret: fmt.Sprintf("secret-%s-%d", keyID, os.Getpid()), FetchedAt: now, ExpiresAt: now.Add(time.Hour)}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("RESULT %s %s %s\n", keyID, src, e.Secret)
}

// TestMultiProcessSingleFlight starts 24 processes that miss on the same
// cold key(s) at the same moment; exactly one fetch per key may happen.
func TestMultiProcessSingleFlight(t *testing.T) {
	if testing.Short() {
		t.Skip("starts many processes")
	}
	tests := []struct {
		name  string
		procs int
		keys  int
	}{
		{"one key", 24, 1},
		{"four keys", 24, 4},
		{"eight keys", 32, 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmp := t.TempDir()
			dir := filepath.Join(tmp, "cache")
			counter := filepath.Join(tmp, "counter")
			waitDir := filepath.Join(tmp, "waiting")
			if err := os.Mkdir(waitDir, 0o700); err != nil {
				t.Fatal(err)
			}

			type child struct {
				cmd    *exec.Cmd
				stdin  io.WriteCloser
				stdout *bufio.Reader
				stderr bytes.Buffer
			}
			children := make([]*child, tt.procs)
			for i := range children {
				c := &child{cmd: helperCmd(t, "singleflight",
					envDir+"="+dir, envCounter+"="+counter, envKeyID+"="+strconv.Itoa(i%tt.keys),
					envWaitDir+"="+waitDir, envPeers+"="+strconv.Itoa(tt.procs/tt.keys-1))}
				c.cmd.Stderr = &c.stderr
				var err error
				if c.stdin, err = c.cmd.StdinPipe(); err != nil {
					t.Fatal(err)
				}
				out, err := c.cmd.StdoutPipe()
				if err != nil {
					t.Fatal(err)
				}
				c.stdout = bufio.NewReader(out)
				if err := c.cmd.Start(); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { c.cmd.Process.Kill() })
				children[i] = c
			}
			for _, c := range children {
				line, err := c.stdout.ReadString('\n')
				if err != nil || line != "READY\n" {
					t.Fatalf("child not ready: %q %v\n%s", line, err, c.stderr.String())
				}
			}
			start := time.Now()
			for _, c := range children { // the barrier
				c.stdin.Write([]byte{'x'})
				c.stdin.Close()
			}
			secrets := map[string]map[string]int{} // keyID -> secret -> processes
			sources := map[string]int{}
			for _, c := range children {
				out, _ := io.ReadAll(c.stdout)
				if err := c.cmd.Wait(); err != nil {
					t.Fatalf("child failed: %v\n%s\n%s", err, out, c.stderr.String())
				}
				var keyID, src, secret string
				for _, line := range strings.Split(string(out), "\n") {
					if strings.HasPrefix(line, "RESULT ") {
						fmt.Sscan(strings.TrimPrefix(line, "RESULT "), &keyID, &src, &secret)
					}
				}
				if secret == "" {
					t.Fatalf("no result from child:\n%s\n%s", out, c.stderr.String())
				}
				if secrets[keyID] == nil {
					secrets[keyID] = map[string]int{}
				}
				secrets[keyID][secret]++
				sources[src]++
			}
			elapsed := time.Since(start)

			data, err := os.ReadFile(counter)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Fields(strings.ReplaceAll(string(data), "\n", " "))
			var fetchedKeys []string
			for i := 0; i < len(lines); i += 2 {
				fetchedKeys = append(fetchedKeys, lines[i])
			}
			sort.Strings(fetchedKeys)
			var wantKeys []string
			for k := 0; k < tt.keys; k++ {
				wantKeys = append(wantKeys, strconv.Itoa(k))
			}
			sort.Strings(wantKeys)
			t.Logf("%d processes, %d keys: %d fetches (counter file), sources %v, %v after the barrier",
				tt.procs, tt.keys, len(fetchedKeys), sources, elapsed.Round(time.Millisecond))
			if fmt.Sprint(fetchedKeys) != fmt.Sprint(wantKeys) {
				t.Fatalf("fetches per key %v, want exactly one each of %v", fetchedKeys, wantKeys)
			}
			if sources["fetched"] != tt.keys || sources["cache"] != tt.procs-tt.keys {
				t.Fatalf("sources %v", sources)
			}
			for k, m := range secrets {
				if len(m) != 1 {
					t.Fatalf("key %s: processes got different tokens %v", k, m)
				}
			}
		})
	}
}

// tortureEntry is the entry the writer helper writes as number seq. Its
// size varies with seq, so a torn file would not decode or would not match.
func tortureEntry(seq int) Entry {
	return Entry{
		Host:      "torture.example",
		Username:  strconv.Itoa(seq),
		Secret:    strings.Repeat(string(rune('a'+seq%26)), 1000+(seq%40)*1000),
		FetchedAt: time.Unix(int64(seq), 0).UTC(),
		ExpiresAt: time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC),
	}
}

// checkTortureEntry decodes data and checks it is a complete tortureEntry.
func checkTortureEntry(key string, data []byte) (int, error) {
	e, ok := decodeEntry(key, data)
	if !ok {
		return 0, fmt.Errorf("torn or corrupt entry (%d bytes)", len(data))
	}
	seq, err := strconv.Atoi(e.Username)
	if err != nil || !sameEntry(e, tortureEntry(seq)) {
		return 0, fmt.Errorf("inconsistent entry %v", e)
	}
	return seq, nil
}

// helperWriter continues the sequence of torture entries, writing them in a
// loop until it is killed (or 10 s pass).
func helperWriter(t *testing.T) {
	s, err := Open(os.Getenv(envDir))
	if err != nil {
		t.Fatal(err)
	}
	key := Key("torture")
	seq, wrote := 0, false
	if e, ok := s.readToken(key, ""); ok {
		seq, _ = strconv.Atoi(e.Username)
	}
	fmt.Println("READY")
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		seq++
		if err := s.put(key, tortureEntry(seq)); err != nil {
			t.Fatal(err)
		}
		if !wrote {
			wrote = true
			fmt.Println("WROTE")
		}
	}
}
