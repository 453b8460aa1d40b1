package dockerconfig

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// topMembers lists the top-level members of doc as (decoded key, raw value) in order, read with
// encoding/json's Decoder independently of the code under test.
func topMembers(t testing.TB, doc []byte) (keys []string, raws [][]byte) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(doc))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %v %v\n%s", tok, err, doc)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		raws = append(raws, raw)
	}
	return keys, raws
}

func credHelpers(t testing.TB, doc []byte) map[string]string {
	t.Helper()
	var v struct {
		CredHelpers map[string]string `json:"credHelpers"`
	}
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatalf("%v\n%s", err, doc)
	}
	return v.CredHelpers
}

func TestSetCredHelpers(t *testing.T) {
	const h1, h2 = "registry.cn-hangzhou.aliyuncs.com", "example-registry.cn-beijing.cr.aliyuncs.com"
	tests := []struct {
		name    string
		in      string
		hosts   []string
		want    string // exact output; "" to skip
		changes string // the plan, joined by "; "
	}{
		{
			name:    "empty file is {}",
			in:      "",
			hosts:   []string{h1},
			want:    "{\n\t\"credHelpers\": {\n\t\t\"" + h1 + "\": \"acr\"\n\t}\n}\n",
			changes: "added " + h1 + " -> acr",
		},
		{
			name:    "whitespace-only file is {}",
			in:      " \n\t\n",
			hosts:   []string{h1},
			want:    "{\n\t\"credHelpers\": {\n\t\t\"" + h1 + "\": \"acr\"\n\t}\n}\n",
			changes: "added " + h1 + " -> acr",
		},
		{
			name:    "empty object keeps the text around it",
			in:      "  {}\n",
			hosts:   []string{h1, h2},
			want:    "  {\n\t\"credHelpers\": {\n\t\t\"" + h1 + "\": \"acr\",\n\t\t\"" + h2 + "\": \"acr\"\n\t}\n}\n",
			changes: "added " + h1 + " -> acr; added " + h2 + " -> acr",
		},
		{
			name: "docker's own layout: unknown keys, numbers, escapes, order kept",
			in: "{\n\t\"auths\": {\n\t\t\"https://index.docker.io/v1/\": {\n\t\t\t\"auth\": \"dXNlcjpwYXNz\"\n\t\t}\n\t},\n" +
				"\t\"zzz\": 2.50,\n\t\"aNumber\": 1e3,\n\t\"big\": 12345678901234567890123,\n" +
				"\t\"esc\": \"\\u00e9\\n\\/\",\n\t\"psFormat\": \"table {{.ID}}\\t{{.Image}}\"\n}",
			hosts: []string{h1},
			want: "{\n\t\"auths\": {\n\t\t\"https://index.docker.io/v1/\": {\n\t\t\t\"auth\": \"dXNlcjpwYXNz\"\n\t\t}\n\t},\n" +
				"\t\"zzz\": 2.50,\n\t\"aNumber\": 1e3,\n\t\"big\": 12345678901234567890123,\n" +
				"\t\"esc\": \"\\u00e9\\n\\/\",\n\t\"psFormat\": \"table {{.ID}}\\t{{.Image}}\",\n" +
				"\t\"credHelpers\": {\n\t\t\"" + h1 + "\": \"acr\"\n\t}\n}",
			changes: "added " + h1 + " -> acr",
		},
		{
			name:    "two-space indent is copied",
			in:      "{\n  \"a\": 1\n}\n",
			hosts:   []string{h1},
			want:    "{\n  \"a\": 1,\n  \"credHelpers\": {\n    \"" + h1 + "\": \"acr\"\n  }\n}\n",
			changes: "added " + h1 + " -> acr",
		},
		{
			name:    "CRLF line ends are copied",
			in:      "{\r\n  \"a\": 1\r\n}\r\n",
			hosts:   []string{h1},
			want:    "{\r\n  \"a\": 1,\r\n  \"credHelpers\": {\r\n    \"" + h1 + "\": \"acr\"\r\n  }\r\n}\r\n",
			changes: "added " + h1 + " -> acr",
		},
		{
			name:    "compact file stays compact",
			in:      `{"a":1,"b":[1,2]}`,
			hosts:   []string{h1, h2},
			want:    `{"a":1,"b":[1,2],"credHelpers":{"` + h1 + `":"acr","` + h2 + `":"acr"}}`,
			changes: "added " + h1 + " -> acr; added " + h2 + " -> acr",
		},
		{
			name:    "existing credHelpers: other hosts kept, one changed, one added",
			in:      "{\n\t\"credHelpers\": {\n\t\t\"gcr.io\": \"gcloud\",\n\t\t\"" + h1 + "\": \"acr-env\"\n\t},\n\t\"credsStore\": \"desktop\"\n}\n",
			hosts:   []string{h1, h2},
			want:    "{\n\t\"credHelpers\": {\n\t\t\"gcr.io\": \"gcloud\",\n\t\t\"" + h1 + "\": \"acr\",\n\t\t\"" + h2 + "\": \"acr\"\n\t},\n\t\"credsStore\": \"desktop\"\n}\n",
			changes: "changed " + h1 + ": acr-env -> acr; added " + h2 + " -> acr",
		},
		{
			name:    "already configured: output is the input",
			in:      "{\"credHelpers\": {\"" + h1 + "\": \"acr\"}, \"x\": 1.0}",
			hosts:   []string{h1},
			want:    "{\"credHelpers\": {\"" + h1 + "\": \"acr\"}, \"x\": 1.0}",
			changes: "unchanged " + h1,
		},
		{
			name:    "escaped host key is recognised",
			in:      `{"credHelpers": {"registry\u002ecn-hangzhou.aliyuncs.com": "acr"}}`,
			hosts:   []string{h1},
			want:    `{"credHelpers": {"registry\u002ecn-hangzhou.aliyuncs.com": "acr"}}`,
			changes: "unchanged " + h1,
		},
		{
			name:    "empty credHelpers",
			in:      "{\n\t\"credHelpers\": {}\n}",
			hosts:   []string{h1},
			want:    "{\n\t\"credHelpers\": {\n\t\t\"" + h1 + "\": \"acr\"\n\t}\n}",
			changes: "added " + h1 + " -> acr",
		},
		{
			name:    "null credHelpers",
			in:      `{"credHelpers": null, "a": 1}`,
			hosts:   []string{h1},
			want:    `{"credHelpers": {"` + h1 + `": "acr"}, "a": 1}`,
			changes: "added " + h1 + " -> acr",
		},
		{
			name:    "non-string old value is replaced and shown raw",
			in:      `{"credHelpers": {"` + h1 + `": 1e3}}`,
			hosts:   []string{h1},
			want:    `{"credHelpers": {"` + h1 + `": "acr"}}`,
			changes: "changed " + h1 + ": 1e3 -> acr",
		},
		{
			name:    "differently cased credHelpers member is the one docker reads",
			in:      `{"CredHelpers": {"a.example.com": "x"}}`,
			hosts:   []string{h1},
			want:    `{"CredHelpers": {"a.example.com": "x", "` + h1 + `": "acr"}}`,
			changes: "added " + h1 + " -> acr",
		},
		{
			name:    "auths entry for the host is kept",
			in:      `{"auths": {"` + h1 + `": {"auth": "eDp5"}}}`,
			hosts:   []string{h1},
			want:    `{"auths": {"` + h1 + `": {"auth": "eDp5"}}, "credHelpers": {"` + h1 + `": "acr"}}`,
			changes: "added " + h1 + " -> acr",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, changes, err := setCredHelpers([]byte(tc.in), tc.hosts, "acr")
			if err != nil {
				t.Fatal(err)
			}
			if tc.want != "" && string(out) != tc.want {
				t.Errorf("got\n%s\nwant\n%s", out, tc.want)
			}
			var plan []string
			for _, c := range changes {
				plan = append(plan, c.String())
			}
			if got := strings.Join(plan, "; "); got != tc.changes {
				t.Errorf("plan %q, want %q", got, tc.changes)
			}
			if !json.Valid(out) {
				t.Fatalf("output is not JSON:\n%s", out)
			}
			// docker reads credHelpers case-insensitively; look at it the same way.
			var v map[string]json.RawMessage
			_ = json.Unmarshal(out, &v)
			for k, raw := range v {
				if strings.EqualFold(k, credHelpersKey) {
					var m map[string]string
					if err := json.Unmarshal(raw, &m); err != nil {
						t.Fatal(err)
					}
					for _, h := range tc.hosts {
						if m[h] != "acr" {
							t.Errorf("credHelpers[%s] = %q", h, m[h])
						}
					}
				}
			}
		})
	}
}

func TestSetCredHelpersRefuses(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"invalid JSON", `{"auths": {}`, "not valid JSON"},
		{"trailing garbage", `{} x`, "not valid JSON"},
		{"comment", "{ // docker\n}", "not valid JSON"},
		{"array", `[1, 2]`, "top level is not a JSON object"},
		{"string", `"x"`, "top level is not a JSON object"},
		{"null", `null`, "top level is not a JSON object"},
		{"BOM", "\xEF\xBB\xBF{}", "byte order mark"},
		{"two credHelpers", `{"credHelpers": {}, "credHelpers": {}}`, "more than one"},
		{"credHelpers in two spellings", `{"credHelpers": {}, "credhelpers": {}}`, "more than one"},
		{"credHelpers not an object", `{"credHelpers": ["acr"]}`, "not an object"},
		{"credHelpers a string", `{"credHelpers": "acr"}`, "not an object"},
		{"duplicate host", `{"credHelpers": {"a.example.com": "x", "a.example.com": "y"}}`, "twice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, _, err := setCredHelpers([]byte(tc.in), []string{"registry.cn-hangzhou.aliyuncs.com"}, "acr")
			if err == nil {
				t.Fatalf("accepted; wrote\n%s", out)
			}
			if !errors.Is(err, errInvalidDocument) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want errInvalidDocument mentioning %q", err, tc.want)
			}
		})
	}
}

func TestNormalizeHost(t *testing.T) {
	tests := []struct {
		in, want string
		note     bool
		bad      bool
	}{
		{in: "registry.cn-hangzhou.aliyuncs.com", want: "registry.cn-hangzhou.aliyuncs.com"},
		{in: "  example-registry.cn-beijing.cr.aliyuncs.com ", want: "example-registry.cn-beijing.cr.aliyuncs.com"},
		{in: "https://registry.cn-hangzhou.aliyuncs.com/", want: "registry.cn-hangzhou.aliyuncs.com", note: true},
		{in: "http://localhost:5000", want: "localhost:5000", note: true},
		{in: "Registry.CN-Hangzhou.aliyuncs.com", want: "registry.cn-hangzhou.aliyuncs.com", note: true},
		{in: "registry.example.com:5443", want: "registry.example.com:5443"},
		{in: "10.0.0.1:5000", want: "10.0.0.1:5000"},
		{in: "[2001:db8::1]:5000", want: "[2001:db8::1]:5000"},
		{in: "[::1]", want: "[::1]"},
		{in: "", bad: true},
		{in: "https://", bad: true},
		{in: "registry.example.com/ns/repo", bad: true},
		{in: "user@registry.example.com", bad: true},
		{in: "registry.example.com:0", bad: true},
		{in: "registry.example.com:65536", bad: true},
		{in: "registry.example.com:05000", bad: true},
		{in: "registry.example.com:", bad: true},
		{in: "2001:db8::1", bad: true},
		{in: "[2001:db8::1", bad: true},
		{in: "[10.0.0.1]", bad: true},
		{in: "-bad.example.com", bad: true},
		{in: "bad..example.com", bad: true},
		{in: "under_score.example.com", bad: true},
		{in: "*.example.com", bad: true},
		{in: "ftp://registry.example.com", bad: true},
		{in: "reg istry.example.com", bad: true},
		{in: strings.Repeat("a", 64) + ".example.com", bad: true},
	}
	for _, tc := range tests {
		got, note, err := normalizeHost(tc.in)
		if tc.bad {
			if err == nil {
				t.Errorf("normalizeHost(%q) = %q, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want || (note != "") != tc.note {
			t.Errorf("normalizeHost(%q) = %q, note %q, %v; want %q (note: %v)", tc.in, got, note, err, tc.want, tc.note)
		}
	}
}

// FuzzConfigure: SetCredHelpers never panics; when it answers, the answer is valid JSON, every
// top-level member but credHelpers is byte-identical and in order, the hosts map to the helper and
// every other credHelpers entry is kept.
func FuzzConfigure(f *testing.F) {
	for _, s := range []string{
		"", "{}", " { } ", "[]", "null", `{"credHelpers":null}`, `{"credHelpers":{}}`,
		"{\n\t\"auths\": {},\n\t\"credHelpers\": {\n\t\t\"gcr.io\": \"gcloud\"\n\t}\n}\n",
		`{"a":2.50,"b":1e3,"c":12345678901234567890123,"d":"\u00e9\n\/","credHelpers":{"x":"y"}}`,
		`{"CredHelpers":{"registry.cn-hangzhou.aliyuncs.com":"old"}}`,
		`{"credHelpers":{"a":1,"a":2}}`, `{"credHelpers":[]}`, "\xEF\xBB\xBF{}", `{"a":`,
		"{\r\n  \"a\": [1, {\"b\": null}]\r\n}",
	} {
		f.Add([]byte(s), "registry.cn-hangzhou.aliyuncs.com")
	}
	f.Fuzz(func(t *testing.T, doc []byte, hostsCSV string) {
		var hosts []string
		for _, h := range strings.Split(hostsCSV, ",") {
			if n, _, err := normalizeHost(h); err == nil {
				hosts = append(hosts, n)
			}
		}
		if len(hosts) == 0 {
			hosts = []string{"registry.cn-hangzhou.aliyuncs.com"}
		}
		hosts, _, _ = normalizeHosts(hosts)
		in := append([]byte(nil), doc...)
		out, _, err := setCredHelpers(doc, hosts, "acr")
		if !bytes.Equal(doc, in) {
			t.Fatal("input modified")
		}
		if err != nil {
			if !errors.Is(err, errInvalidDocument) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("output is not valid JSON:\n%q\nfrom\n%q", out, doc)
		}
		var inKeys []string
		var inRaws [][]byte
		if len(bytes.TrimSpace(doc)) > 0 {
			inKeys, inRaws = topMembers(t, doc)
		}
		outKeys, outRaws := topMembers(t, out)
		filter := func(keys []string, raws [][]byte) (k []string, r [][]byte, helpers []byte) {
			for i := range keys {
				if strings.EqualFold(keys[i], credHelpersKey) {
					helpers = raws[i]
					continue
				}
				k, r = append(k, keys[i]), append(r, raws[i])
			}
			return
		}
		ik, ir, ih := filter(inKeys, inRaws)
		ok, or, oh := filter(outKeys, outRaws)
		if len(ik) != len(ok) {
			t.Fatalf("members %q became %q", ik, ok)
		}
		for i := range ik {
			if ik[i] != ok[i] || !bytes.Equal(ir[i], or[i]) {
				t.Fatalf("member %q %s became %q %s", ik[i], ir[i], ok[i], or[i])
			}
		}
		var oldMap, newMap map[string]json.RawMessage
		if ih != nil {
			_ = json.Unmarshal(ih, &oldMap)
		}
		if err := json.Unmarshal(oh, &newMap); err != nil || newMap == nil {
			t.Fatalf("credHelpers %s: %v", oh, err)
		}
		want := map[string]bool{}
		for _, h := range hosts {
			want[h] = true
			if string(newMap[h]) != `"acr"` {
				t.Fatalf("credHelpers[%s] = %s", h, newMap[h])
			}
		}
		for k, v := range oldMap {
			if !want[k] && !bytes.Equal(newMap[k], v) {
				t.Fatalf("credHelpers[%s] was %s, became %s", k, v, newMap[k])
			}
		}
		if len(newMap) != len(oldMap)+countMissing(oldMap, hosts) {
			t.Fatalf("credHelpers %s has entries that were not asked for (was %s)", oh, ih)
		}
	})
}

func countMissing(m map[string]json.RawMessage, hosts []string) int {
	n := 0
	for _, h := range hosts {
		if _, ok := m[h]; !ok {
			n++
		}
	}
	return n
}
