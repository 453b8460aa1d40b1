package internet

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"testing"
)

// Every name is answered by the stand-in itself: API hosts by the fake (Host kept), others by the
// registries handler; a name that exists nowhere (.invalid) is answered too, so nothing is
// resolved or dialled outside.
func TestRoutesEveryNameLocally(t *testing.T) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Host", r.Host)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer api.Close()
	in, err := Start(t.TempDir(), api.URL, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Host", r.Host)
		w.WriteHeader(http.StatusTeapot)
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	pem, err := os.ReadFile(in.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	proxy, _ := url.Parse(in.URL)
	c := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxy), TLSClientConfig: &tls.Config{RootCAs: roots}}}
	for _, tt := range []struct {
		host string
		code int
	}{
		{"cr.cn-hangzhou.aliyuncs.com", http.StatusAccepted},
		{"sts.aliyuncs.com", http.StatusAccepted},
		{"kms-vpc.cn-shanghai.aliyuncs.com", http.StatusAccepted},
		{"registry.cn-hangzhou.aliyuncs.com", http.StatusTeapot},
		{"nowhere.invalid", http.StatusTeapot},
	} {
		resp, err := c.Get("https://" + tt.host + "/v2/")
		if err != nil {
			t.Fatalf("%s: %v", tt.host, err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.code || resp.Header.Get("X-Host") != tt.host {
			t.Errorf("%s: %d from %q, want %d", tt.host, resp.StatusCode, resp.Header.Get("X-Host"), tt.code)
		}
	}
	if got := len(in.Targets()); got != 5 {
		t.Errorf("%d CONNECT targets, want 5: %v", got, in.Targets())
	}
}
