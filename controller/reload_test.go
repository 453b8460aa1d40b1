package main

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"testing"
)

func reloads(r *replica, result string) int {
	_, body := r.get("/metrics")
	m := regexp.MustCompile(`acr_credential_controller_config_reloads_total\{result="` + result + `"\} (\d+)`).FindStringSubmatch(body)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// The config is re-read when the ConfigMap's ..data symlink is swapped. A reload that changes no
// registry makes no token call; a namespace leaving the watch set and a registry leaving the config
// lose exactly what the controller added; a broken file keeps the last good config.
func TestConfigReload(t *testing.T) {
	w := newWorld(t)
	createNamespaces(t, "rl-a", "rl-b")
	createSA(t, "rl-b", "builder", "mine")
	cluster := "watchNamespace: rl-a,rl-b\nserviceAccount: '*'"
	w.writeConfig(w.config(cluster, teamEntry+personalEntry))
	r := w.startController(nil)
	waitFor(t, "both namespaces served", func() (bool, string) {
		a, _ := secretAuths(t, "rl-a")
		b := pullSecrets(t, "rl-b", "builder")
		return len(a) == len(teamHosts)+len(personalHostsHZ) && slices.Equal(b, []string{"mine", secretName}), fmt.Sprint(len(a), b)
	})
	calls := tokenCalls(w.fc)

	// Same registries, reordered keys and a comment: no token call.
	before := reloads(r, "ok")
	w.writeConfig("# edited\n" + w.config(cluster, teamEntry+personalEntry))
	waitFor(t, "the reload", func() (bool, string) { return reloads(r, "ok") > before, "no reload seen" })
	if n := tokenCalls(w.fc); n != calls {
		t.Errorf("a reload that changes no registry made %d token calls", n-calls)
	}

	// rl-b leaves the watch set; the Personal registry leaves the config.
	w.writeConfig(w.config("watchNamespace: rl-a\nserviceAccount: '*'", teamEntry))
	waitFor(t, "rl-b cleaned and rl-a's Secret without the Personal hosts", func() (bool, string) {
		a, _ := secretAuths(t, "rl-a")
		b, _ := secretAuths(t, "rl-b")
		got := pullSecrets(t, "rl-b", "builder")
		return len(a) == 3 && b == nil && slices.Equal(got, []string{"mine"}) && len(pullSecrets(t, "rl-b", "default")) == 0,
			fmt.Sprint(sortedKeys(a), b != nil, got)
	})
	if a, _ := secretAuths(t, "rl-a"); !slices.Equal(sortedKeys(a), teamHosts) {
		t.Errorf("rl-a's hosts %v, want %v", sortedKeys(a), teamHosts)
	}
	if n := tokenCalls(w.fc); n != calls {
		t.Errorf("removing things made %d token calls", n-calls)
	}

	// A broken file: not ready, the last good config stays.
	w.writeConfig("watchNamespace: rl-a\nbogusKey: 1\n")
	waitFor(t, "/readyz to report the broken config", func() (bool, string) {
		code, body := r.get("/readyz")
		return code == 503, fmt.Sprint(code, body)
	})
	if a, _ := secretAuths(t, "rl-a"); len(a) != 3 {
		t.Errorf("a broken config changed the Secret: %v", sortedKeys(a))
	}

	// No registry at all: every Secret and entry the controller made goes.
	w.writeConfig(w.config(cluster, "  []\n"))
	waitFor(t, "everything removed", func() (bool, string) {
		a, _ := secretAuths(t, "rl-a")
		return a == nil && len(pullSecrets(t, "rl-a", "default")) == 0, fmt.Sprint(a != nil)
	})
	if code, _ := r.get("/readyz"); code != 200 {
		t.Errorf("/readyz %d after a good config", code)
	}
}
