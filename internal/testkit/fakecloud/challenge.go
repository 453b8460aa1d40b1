package fakecloud

import (
	"net/http"
	"strings"
)

// Challenge answers like an ACR registry to an anonymous client: GET /v2/ (and anything under
// /v2/) gets 401 with
//
//	WWW-Authenticate: Bearer realm="https://dockerauth.<region>.aliyuncs.com/auth",service="registry.aliyuncs.com:<region>:<suffix>"
//
// suffix is "26842" for a Personal Edition registry or "china:cri-…" for an Enterprise instance.
// Other paths get 404.
func Challenge(region, suffix string) http.Handler {
	header := `Bearer realm="https://dockerauth.` + region + `.aliyuncs.com/auth",service="registry.aliyuncs.com:` +
		region + `:` + suffix + `"`
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v2" && !strings.HasPrefix(r.URL.Path, "/v2/") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Docker-Distribution-Api-Version", "registry/2.0")
		w.Header().Set("WWW-Authenticate", header)
		w.WriteHeader(http.StatusUnauthorized)
		if r.Method != http.MethodHead {
			_, _ = w.Write([]byte(`{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":null}]}` + "\n"))
		}
	})
}
