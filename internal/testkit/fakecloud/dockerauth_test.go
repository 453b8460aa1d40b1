package fakecloud_test

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/alibabacloud-go/tea/tea"

	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit/fakecloud"
)

// verifyJWT checks a compact ES256 JWS against the certificate (PEM) and returns its header and
// claims.
func verifyJWT(t *testing.T, certPEM []byte, tok string) (map[string]any, map[string]any) {
	t.Helper()
	block, _ := pem.Decode(certPEM)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS: %q", tok)
	}
	dec := func(s string) []byte {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		return b
	}
	sig := dec(parts[2])
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	if len(sig) != 64 || !ecdsa.Verify(cert.PublicKey.(*ecdsa.PublicKey), sum[:], r, s) {
		t.Fatal("the token's signature does not verify with the signing certificate")
	}
	var header, claims map[string]any
	if json.Unmarshal(dec(parts[0]), &header) != nil || json.Unmarshal(dec(parts[1]), &claims) != nil {
		t.Fatalf("token %q", tok)
	}
	if x5c, _ := header["x5c"].([]any); len(x5c) != 1 || x5c[0] != base64.StdEncoding.EncodeToString(cert.Raw) || header["alg"] != "ES256" {
		t.Fatalf("header %v", header)
	}
	return header, claims
}

func TestDockerAuth(t *testing.T) {
	fc := newWorld(t)
	da, err := fc.NewDockerAuth()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(da.Handler())
	defer srv.Close()

	cl := crClient(t, config(fc, userAK, userSK, ""))
	res, err := enterpriseToken(cl, instID)
	if err != nil {
		t.Fatal(err)
	}
	corpLogin := tea.StringValue(res.Body.AuthorizationToken)
	res, err = enterpriseToken(cl, instID2)
	if err != nil {
		t.Fatal(err)
	}
	edgeLogin := tea.StringValue(res.Body.AuthorizationToken)
	body, err := personalToken(cl)
	if err != nil {
		t.Fatal(err)
	}
	personalLogin, _ := body["data"].(map[string]any)["authorizationToken"].(string)
	fc.SetTokenLifetime(-time.Minute) // the next login is handed out already expired
	res, err = enterpriseToken(cl, instID)
	if err != nil {
		t.Fatal(err)
	}
	expiredLogin := tea.StringValue(res.Body.AuthorizationToken)

	corpService := "registry.aliyuncs.com:cn-hangzhou:china:" + instID
	personalService := "registry.aliyuncs.com:cn-hangzhou:26842"
	tests := []struct {
		name, service, user, pass string
		anonymous                 bool
		want                      int
		code                      string
		access                    bool
	}{
		{"the instance's own login", corpService, "cr_temp_user", corpLogin, false, 200, "", true},
		{"Personal login for the Personal service", personalService, "cr_temp_user", personalLogin, false, 200, "", true},
		{"another instance's login", corpService, "cr_temp_user", edgeLogin, false, 401, "LoginOfAnotherInstance", false},
		{"a Personal login for an instance", corpService, "cr_temp_user", personalLogin, false, 401, "LoginOfAnotherInstance", false},
		{"an instance's login for Personal", personalService, "cr_temp_user", corpLogin, false, 401, "LoginOfAnotherInstance", false},
		{"expired login", corpService, "cr_temp_user", expiredLogin, false, 401, "LoginExpired", false},
		{"login never handed out", corpService, "cr_temp_user", corpLogin + "x", false, 401, "LoginUnknown", false},
		{"other user name", corpService, "admin", corpLogin, false, 401, "LoginUnknown", false},
		{"empty password", corpService, "cr_temp_user", "", false, 401, "LoginUnknown", false},
		{"not an ACR service", "registry.example.com", "cr_temp_user", corpLogin, false, 401, "ServiceUnknown", false},
		{"anonymous: a token without access", corpService, "", "", true, 200, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := url.Values{"service": {tc.service}, "scope": {"repository:e2e-ns/app:pull,push", "repository:other:delete"}}
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/auth?"+q.Encode(), nil)
			req.Host = "dockerauth-ee.cn-hangzhou.aliyuncs.com"
			if !tc.anonymous {
				req.SetBasicAuth(tc.user, tc.pass)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
			c := lastCall(t, fc, "Auth")
			if c.Service != "dockerauth" || c.Status != tc.want || c.ErrorCode != map[bool]string{true: "", false: tc.code}[tc.want == 200] ||
				c.Host != req.Host || c.Params["service"] != tc.service {
				t.Errorf("call %+v", c)
			}
			if tc.want != 200 {
				if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic ") {
					t.Errorf("401 without a Basic challenge: %v", resp.Header)
				}
				return
			}
			var out struct {
				Token       string `json:"token"`
				AccessToken string `json:"access_token"`
				ExpiresIn   int    `json:"expires_in"`
				IssuedAt    string `json:"issued_at"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Token == "" || out.AccessToken != out.Token || out.ExpiresIn < 60 {
				t.Fatalf("answer %+v (%v)", out, err)
			}
			_, claims := verifyJWT(t, da.CertPEM(), out.Token)
			if claims["iss"] != fakecloud.DockerAuthIssuer || claims["aud"] != tc.service {
				t.Errorf("claims %v", claims)
			}
			access, _ := json.Marshal(claims["access"])
			want := `[]`
			if tc.access {
				// pull and push granted as asked; delete is not a right a login carries here.
				want = `[{"actions":["pull","push"],"name":"e2e-ns/app","type":"repository"}]`
			}
			if string(access) != want {
				t.Errorf("access %s, want %s", access, want)
			}
		})
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/auth", nil)
	req.SetBasicAuth("cr_temp_user", corpLogin)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 404 {
		t.Fatalf("POST /auth: %v %v", resp, err)
	}
}
