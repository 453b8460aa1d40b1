package kubeletapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit"
)

func request(version, image string, extra map[string]any) string {
	m := map[string]any{"apiVersion": "credentialprovider.kubelet.k8s.io/" + version, "kind": "CredentialProviderRequest", "image": image}
	for k, v := range extra {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func TestReadRequestMalformed(t *testing.T) {
	const token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzZWNyZXQifQ.c2VjcmV0LXNpZ25hdHVyZQ"
	big := `{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"registry.cn-hangzhou.aliyuncs.com/a/b"` + strings.Repeat(" ", MaxInput) + "}"
	tests := []struct{ name, in, want string }{
		{"empty", "", "empty input"},
		{"blank", " \n\t", "empty input"},
		{"null", "null", "not a JSON object"},
		{"array", `[{"image":"x"}]`, "not a JSON object"},
		{"string", `"registry.cn-hangzhou.aliyuncs.com"`, "not a JSON object"},
		{"a docker get", "registry.cn-hangzhou.aliyuncs.com\n", "not valid JSON"},
		{"truncated", `{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"Cred`, "not valid JSON"},
		{"two values", request("v1", "a.example/b", nil) + request("v1", "a.example/b", nil), "more than one JSON value"},
		{"trailing garbage", request("v1", "a.example/b", nil) + "x", "more than one JSON value"},
		{"no apiVersion", `{"kind":"CredentialProviderRequest","image":"a.example/b"}`, "no apiVersion"},
		{"apiVersion v1", `{"apiVersion":"v1","kind":"CredentialProviderRequest","image":"a.example/b"}`, "unsupported apiVersion"},
		{"apiVersion v2", `{"apiVersion":"credentialprovider.kubelet.k8s.io/v2","kind":"CredentialProviderRequest","image":"a.example/b","serviceAccountToken":"` + token + `"}`, "unsupported apiVersion"},
		{"apiVersion upper", `{"apiVersion":"CredentialProvider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"a.example/b"}`, "unsupported apiVersion"},
		{"apiVersion number", `{"apiVersion":1,"kind":"CredentialProviderRequest","image":"a.example/b"}`, "apiVersion is not a string"},
		{"no kind", `{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"a.example/b"}`, "no kind"},
		{"wrong kind", `{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderResponse","image":"a.example/b"}`, "want CredentialProviderRequest"},
		{"no image", `{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest"}`, "no image"},
		{"null image", `{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":null}`, "no image"},
		{"Image in another case", `{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","Image":"a.example/b"}`, "no image"},
		{"image number", `{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":5}`, "image is not a string"},
		{"image with space", request("v1", "a.example/b c", nil), "whitespace"},
		{"image with newline", request("v1", "a.example/b\nregistry.cn-hangzhou.aliyuncs.com/x", nil), "whitespace"},
		{"image too long", request("v1", "a.example/"+strings.Repeat("b", maxImageLen), nil), "longer than"},
		{"token not a string", request("v1", "a.example/b", map[string]any{"serviceAccountToken": []string{token}}), "serviceAccountToken is not a string"},
		{"annotations not a map", request("v1", "a.example/b", map[string]any{"serviceAccountAnnotations": []string{"x"}}), "serviceAccountAnnotations is not an object"},
		{"annotation not a string", request("v1", "a.example/b", map[string]any{"serviceAccountAnnotations": map[string]int{"x": 1}, "serviceAccountToken": token}), "serviceAccountAnnotations is not an object"},
		{"over 1 MiB", big, "larger than"},
		{"invalid UTF-8", "{\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v1\",\"kind\":\"CredentialProviderRequest\",\"image\":\"a.example/\xff\"}", "invalid UTF-8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := ReadRequest(context.Background(), strings.NewReader(tc.in))
			var re *RequestError
			if !errors.As(err, &re) {
				t.Fatalf("error %T %v, want a *RequestError", err, err)
			}
			if _, derr := DecodeRequest([]byte(tc.in)); tc.name != "over 1 MiB" && (derr == nil || derr.Error() != err.Error()) {
				t.Errorf("DecodeRequest says %v, ReadRequest %v", derr, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
			if strings.Contains(err.Error(), token) || strings.Contains(err.Error(), "c2VjcmV0") {
				t.Errorf("the error shows the token: %v", err)
			}
			if len(err.Error()) > 400 {
				t.Errorf("error of %d bytes", len(err.Error()))
			}
			if req.APIVersion != "" || req.Image != "" || req.ServiceAccountToken != "" || req.ServiceAccountAnnotations != nil {
				t.Errorf("an error and a request %+v", req)
			}
		})
	}

	// Unknown fields (a newer kubelet) are ignored.
	in := request("v1", "docker.io/library/nginx", map[string]any{"somethingNew": map[string]int{"a": 1}, "metadata": nil})
	if req, err := ReadRequest(context.Background(), strings.NewReader(in)); err != nil || req.Image != "docker.io/library/nginx" {
		t.Errorf("unknown fields: %+v %v", req, err)
	}
}

// endless is a reader that never ends.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}

func TestReadRequestBounded(t *testing.T) {
	// A stream that never ends is cut at the limit.
	start := time.Now()
	_, err := ReadRequest(context.Background(), endless{})
	if err == nil || !strings.Contains(err.Error(), "larger than") || time.Since(start) > 10*time.Second {
		t.Errorf("endless stdin: %v after %v", err, time.Since(start))
	}

	// Stdin that never closes: the deadline ends the wait.
	pr, pw := io.Pipe()
	t.Cleanup(func() { pw.Close() })
	go pw.Write([]byte(`{"apiVersion":"credentialprovider.kubelet.k8s.io/v1",`))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, err = ReadRequest(ctx, pr)
	var re *RequestError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "did not end in time") || time.Since(start) > 5*time.Second {
		t.Errorf("open stdin: %v after %v", err, time.Since(start))
	}

	// A failing reader.
	_, err = ReadRequest(context.Background(), io.MultiReader(strings.NewReader("{"), iotestErrReader{}))
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "reading stdin") {
		t.Errorf("failing stdin: %v", err)
	}
}

type iotestErrReader struct{}

func (iotestErrReader) Read([]byte) (int, error) { return 0, errors.New("device gone") }

func TestImageRegistry(t *testing.T) {
	for image, want := range map[string]string{
		"registry.cn-hangzhou.aliyuncs.com/ns/app:tag":                        "registry.cn-hangzhou.aliyuncs.com",
		"registry.cn-hangzhou.aliyuncs.com/ns/app@sha256:abc":                 "registry.cn-hangzhou.aliyuncs.com",
		"a-registry-vpc.distributed.cn-hangzhou.cr.aliyuncs.com:65001/ns/app": "a-registry-vpc.distributed.cn-hangzhou.cr.aliyuncs.com:65001",
		"localhost/app":          "localhost",
		"localhost:5000/app":     "localhost:5000",
		"[::1]:5000/app":         "[::1]:5000",
		"Registry.Example.COM/a": "Registry.Example.COM",
		"nginx":                  "",
		"nginx:1.27":             "",
		"nginx@sha256:abc":       "",
		"library/nginx":          "",
		"user/app:1":             "",
		"/app":                   "",
		"":                       "",
		"registry.example.com":   "",
	} {
		got, ok := ImageRegistry(image)
		if got != want || ok != (want != "") {
			t.Errorf("ImageRegistry(%q) = %q, %v; want %q", image, got, ok, want)
		}
	}
}

// Every sample request decodes; the kubelettest module checks the same files against the
// upstream types.
func TestRequestFixtures(t *testing.T) {
	files, err := filepath.Glob(testkit.Path("kubelet", "requests", "*.json"))
	if err != nil || len(files) < 5 {
		t.Fatalf("fixtures: %v %v", files, err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		req, err := DecodeRequest(data)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if !strings.HasPrefix(filepath.Base(f), strings.TrimPrefix(req.APIVersion, "credentialprovider.kubelet.k8s.io/")+"-") {
			t.Errorf("%s holds apiVersion %s", f, req.APIVersion)
		}
		if strings.Contains(f, "service-account") && (req.ServiceAccountToken == "" || len(req.ServiceAccountAnnotations) == 0) {
			t.Errorf("%s: no token or no annotations %v", f, req.ServiceAccountAnnotations)
		}
	}
}

func TestIsProviderName(t *testing.T) {
	for argv0, want := range map[string]bool{
		"acr-credential-provider": true,
		"/usr/libexec/kubernetes/kubelet-plugins/acr-credential-provider": true,
		`C:\k\bin\acr-credential-provider.exe`:                            true,
		"./acr-credential-provider":                                       true,
		"docker-credential-acr":                                           false,
		"/usr/local/bin/docker-credential-acr":                            false,
		"acr-credential-provider-old":                                     false,
		"":                                                                false,
	} {
		if got := IsProviderName(argv0); got != want {
			t.Errorf("IsProviderName(%q) = %v", argv0, got)
		}
	}
}
