package netns

import (
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// TestEnter: inside the namespace a server on the metadata address answers a direct request, and
// nothing else is reachable.
func TestEnter(t *testing.T) {
	if !Enter(t) {
		return
	}
	ln, err := net.Listen("tcp", MetadataAddr+":80")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "inside") })}
	go srv.Serve(ln)
	defer srv.Close()
	c := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 10 * time.Second}
	resp, err := c.Get("http://" + MetadataAddr + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "inside" {
		t.Fatalf("got %q", b)
	}
	// No route out: a TEST-NET address is unreachable at once.
	if conn, err := net.DialTimeout("tcp", "192.0.2.1:80", time.Second); err == nil {
		conn.Close()
		t.Fatal("a non-loopback address is reachable from the namespace")
	}
}

func TestRunPattern(t *testing.T) {
	for in, want := range map[string]string{
		"TestA":          "^TestA$",
		"TestA/sub_case": "^TestA$/^sub_case$",
		"TestA/x.y(z)":   `^TestA$/^x\.y\(z\)$`,
	} {
		if got := runPattern(in); got != want {
			t.Errorf("runPattern(%q) = %q, want %q", in, got, want)
		}
	}
}
