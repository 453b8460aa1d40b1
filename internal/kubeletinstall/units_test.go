package kubeletinstall

import (
	"strings"
	"testing"
)

func TestAddRemoveFlags(t *testing.T) {
	add := []string{"--image-credential-provider-config=/c.yaml", "--image-credential-provider-bin-dir=/bin"}
	for _, tc := range []struct{ name, in, want string }{
		{"empty file", "", "KUBELET_EXTRA_ARGS=\"--image-credential-provider-config=/c.yaml --image-credential-provider-bin-dir=/bin\"\n"},
		{"no newline at the end", "A=1", "A=1\nKUBELET_EXTRA_ARGS=\"--image-credential-provider-config=/c.yaml --image-credential-provider-bin-dir=/bin\"\n"},
		{"empty value", "KUBELET_EXTRA_ARGS=\n", "KUBELET_EXTRA_ARGS=\"--image-credential-provider-config=/c.yaml --image-credential-provider-bin-dir=/bin\"\n"},
		{"single quotes, export", "export KUBELET_EXTRA_ARGS='--v=2'\n", "export KUBELET_EXTRA_ARGS='--v=2 --image-credential-provider-config=/c.yaml --image-credential-provider-bin-dir=/bin'\n"},
		{"last assignment wins", "KUBELET_EXTRA_ARGS=--a\nKUBELET_EXTRA_ARGS=\"--b\"\n", "KUBELET_EXTRA_ARGS=--a\nKUBELET_EXTRA_ARGS=\"--b --image-credential-provider-config=/c.yaml --image-credential-provider-bin-dir=/bin\"\n"},
		{"one flag there, space form", "KUBELET_EXTRA_ARGS=\"--image-credential-provider-bin-dir /opt\"\n", "KUBELET_EXTRA_ARGS=\"--image-credential-provider-bin-dir /opt --image-credential-provider-config=/c.yaml\"\n"},
		{"both there", "KUBELET_EXTRA_ARGS=\"-image-credential-provider-config=/x --image-credential-provider-bin-dir=/y\"\n", "KUBELET_EXTRA_ARGS=\"-image-credential-provider-config=/x --image-credential-provider-bin-dir=/y\"\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, added, err := addFlags([]byte(tc.in), "KUBELET_EXTRA_ARGS", add)
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tc.want {
				t.Errorf("got\n%s\nwant\n%s", out, tc.want)
			}
			// Adding again adds nothing.
			again, more, _ := addFlags(out, "KUBELET_EXTRA_ARGS", add)
			if len(more) != 0 || string(again) != string(out) {
				t.Errorf("a second add: %v\n%s", more, again)
			}
			back, removed := removeFlags(out, "KUBELET_EXTRA_ARGS", added)
			if removed != (len(added) > 0) {
				t.Errorf("removed %v, added %v", removed, added)
			}
			if len(added) > 0 {
				if _, has := flagValue(strings.Fields(string(back)), "--image-credential-provider-config=/c.yaml"); has || strings.Contains(string(back), "/c.yaml") && !strings.Contains(tc.in, "/c.yaml") {
					t.Errorf("the flags stay after removeFlags:\n%s", back)
				}
			}
		})
	}
	if _, _, err := addFlags(nil, "KUBELET_EXTRA_ARGS", []string{"--image-credential-provider-config=/my dir/c.yaml"}); err == nil {
		t.Error("a path with a space was accepted")
	}
	for _, bad := range []string{"KUBELET_EXTRA_ARGS=\"\n", "KUBELET_EXTRA_ARGS=\"--a='b c'\"\n", "KUBELET_EXTRA_ARGS=--a\\ b\n"} {
		if _, _, err := addFlags([]byte(bad), "KUBELET_EXTRA_ARGS", add); err == nil || !strings.Contains(err.Error(), "by hand") {
			t.Errorf("%q: %v; want a refusal", bad, err)
		}
	}
}

func TestCompareVersions(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"1.2.3", "1.2.3", 0}, {"1.2.4", "1.2.3", 1}, {"1.10.0", "1.9.0", 1}, {"2.0.0", "10.0.0", -1},
		{"1.2.3-rc.1", "1.2.3", -1}, {"1.2.3-rc.2", "1.2.3-rc.10", -1}, {"1.2.3-alpha", "1.2.3-beta", -1},
		{"1.2.3-1", "1.2.3-alpha", -1}, {"1.2.3-rc", "1.2.3-rc.1", -1},
	} {
		if got := compareVersions(tc.a, tc.b); got != tc.want {
			t.Errorf("compare(%s, %s) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := compareVersions(tc.b, tc.a); got != -tc.want {
			t.Errorf("compare(%s, %s) = %d, want %d", tc.b, tc.a, got, -tc.want)
		}
	}
	for out, want := range map[string]string{
		"docker-credential-acr (Alibaba Cloud Container Registry) v1.2.3 commit abc go1.26.8\n":     "1.2.3",
		"docker-credential-acr (Alibaba Cloud Container Registry) v1.2.3-rc.1+dirty commit abc go1": "1.2.3-rc.1",
		"docker-credential-acr (Alibaba Cloud Container Registry) (devel) commit unknown go1":       "",
		"acr-credential-provider 1.2.3": "",
	} {
		if got := parseVersion(out); got != want {
			t.Errorf("parseVersion(%q) = %q, want %q", out, got, want)
		}
	}
}

func TestDiff(t *testing.T) {
	var b strings.Builder
	old := "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n"
	new := "a\nB\nc\nd\ne\nf\ng\nh\ni\nj\nk\n"
	writeDiff(&b, "/f", []byte(old), []byte(new), true, true)
	want := "--- a/f\n+++ b/f\n@@ -1,5 +1,5 @@\n a\n-b\n+B\n c\n d\n e\n@@ -8,3 +8,4 @@\n h\n i\n j\n+k\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}
