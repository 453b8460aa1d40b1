package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestClusterKeys(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		ns, sas []string
		email   string
		err     string
	}{
		{name: "defaults", yaml: "registries: []\n", ns: []string{"default"}, sas: []string{"default"}},
		{name: "add-on comma lists", yaml: "watchNamespace: team-a, team-b\nserviceAccount: default,builder.v1\nnotifyEmail: ops@example.com\n",
			ns: []string{"team-a", "team-b"}, sas: []string{"default", "builder.v1"}, email: "ops@example.com"},
		{name: "yaml lists and all", yaml: "watchNamespace: all\nserviceAccount: ['*']\n", ns: []string{"all"}, sas: []string{"*"}},
		{name: "threshold is the helper's", yaml: "expiringThreshold: 20m\n", ns: []string{"default"}, sas: []string{"default"}},
		{name: "all mixed", yaml: "watchNamespace: all,team-a\n", err: "do not mix"},
		{name: "bad namespace", yaml: "watchNamespace: Team_A\n", err: `"Team_A" is not a namespace name`},
		{name: "dotted namespace", yaml: "watchNamespace: a.b\n", err: `"a.b" is not a namespace name`},
		{name: "empty list", yaml: "serviceAccount: ' , '\n", err: "is empty"},
		{name: "bad email", yaml: "notifyEmail: not an address\n", err: "is not an email address"},
		{name: "mapping", yaml: "watchNamespace: {a: b}\n", err: "must be a comma-separated list"},
		{name: "unknown key still an error", yaml: "watchNamespaces: a\nwatchNamespacez: b\n", err: "unknown key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "config.yaml")
			if err := os.WriteFile(p, []byte(tt.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := LoadFile(p, env(t))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Cluster.Namespaces(); !reflect.DeepEqual(got, tt.ns) {
				t.Errorf("namespaces %v, want %v", got, tt.ns)
			}
			if got := c.Cluster.Accounts(); !reflect.DeepEqual(got, tt.sas) {
				t.Errorf("service accounts %v, want %v", got, tt.sas)
			}
			if c.Cluster.NotifyEmail != tt.email {
				t.Errorf("email %q, want %q", c.Cluster.NotifyEmail, tt.email)
			}
		})
	}
}
