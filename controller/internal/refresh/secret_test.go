package refresh

import (
	"encoding/json"
	"slices"
	"sort"
	"testing"
	"time"
)

func TestDockerConfigJSON(t *testing.T) {
	regs := []Registry{{Key: "a", Hosts: []string{"a1", "a2"}}, {Key: "b", Hosts: []string{"b1"}}}
	tokA := Token{Username: "u", Password: "p", ExpiresAt: time.Now().Add(time.Hour)}
	data, ok := dockerConfigJSON(regs, map[string]Token{"a": tokA}, "ops@example.com", nil)
	if !ok || !slices.Equal(hostsOf(data), []string{"a1", "a2"}) {
		t.Fatalf("hosts %v ok %v", hostsOf(data), ok)
	}
	var dc dockerConfig
	if err := json.Unmarshal(data, &dc); err != nil {
		t.Fatal(err)
	}
	if a := dc.Auths["a1"]; a.Auth != "dTpw" || a.Email != "ops@example.com" || a.Username != "u" || a.Password != "p" {
		t.Errorf("auth entry %+v", a)
	}
	// b has no token in this process (a new leader): its entries in the current Secret are kept.
	cur := []byte(`{"auths":{"b1":{"username":"old","password":"x","auth":"b2xkOng="},"gone":{"username":"z","password":"z","auth":"ejp6"}}}`)
	data, _ = dockerConfigJSON(regs, map[string]Token{"a": tokA}, "", cur)
	if got := hostsOf(data); !slices.Equal(got, []string{"a1", "a2", "b1"}) {
		t.Errorf("hosts %v: want b1 kept and the unconfigured host dropped", got)
	}
	if _, ok := dockerConfigJSON(regs, nil, "", nil); ok {
		t.Error("no token and no Secret gave something to write")
	}
	again, _ := dockerConfigJSON(regs, map[string]Token{"a": tokA}, "", cur)
	if string(again) != string(data) {
		t.Error("the same logins gave different bytes")
	}
}

func TestDue(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	st := &tokenState{have: true, fetched: now, token: Token{ExpiresAt: now.Add(time.Hour)}}
	if got := st.due(15 * time.Minute); !got.Equal(now.Add(45 * time.Minute)) {
		t.Errorf("due %v, want 45m after the fetch", got.Sub(now))
	}
	if got := st.due(2 * time.Hour); !got.Equal(now.Add(30 * time.Minute)) {
		t.Errorf("threshold longer than the life: due %v, want halfway", got.Sub(now))
	}
	// The helper's rule (cache.RefreshAt): a life shorter than twice the threshold is refreshed
	// halfway through.
	if got := st.due(50 * time.Minute); !got.Equal(now.Add(30 * time.Minute)) {
		t.Errorf("threshold longer than half the life: due %v, want halfway", got.Sub(now))
	}
	if got := st.due(30 * time.Minute); !got.Equal(now.Add(30 * time.Minute)) {
		t.Errorf("threshold exactly half the life: due %v, want 30m", got.Sub(now))
	}
	short := &tokenState{have: true, fetched: now, token: Token{ExpiresAt: now.Add(15 * time.Second)}}
	if got := short.due(time.Minute); !got.Equal(now.Add(minRefresh)) {
		t.Errorf("a 15s login: due %v, want never sooner than %v", got.Sub(now), minRefresh)
	}
	var none *tokenState
	if !none.due(time.Minute).IsZero() {
		t.Error("no token is not due at once")
	}
	failed := &tokenState{failures: 1, retryAt: now.Add(5 * time.Second)}
	if got := failed.due(time.Minute); !got.Equal(now.Add(5 * time.Second)) {
		t.Errorf("retry due %v", got.Sub(now))
	}
	held := &tokenState{have: true, fetched: now, token: Token{ExpiresAt: now.Add(time.Hour)}, failures: 2, retryAt: now.Add(50 * time.Minute)}
	if got := held.due(15 * time.Minute); !got.Equal(now.Add(50 * time.Minute)) {
		t.Errorf("retry after a failed refresh due %v", got.Sub(now))
	}
}

// hostsOf lists the hosts of a dockerconfigjson, sorted .
func hostsOf(data []byte) []string {
	var c dockerConfig
	if json.Unmarshal(data, &c) != nil {
		return nil
	}
	var hosts []string
	for h := range c.Auths {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	return hosts
}
