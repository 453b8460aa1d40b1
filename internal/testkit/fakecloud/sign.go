package fakecloud

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// The canonicalisation below mirrors darabonba-openapi v2.1.13 utils.GetAuthorization,
// getCanonicalQueryString and getCanonicalHeaders, and utils.GetRPCSignature /
// credentials-go's RAM-role signer for the legacy HMAC-SHA1 scheme.

const acs3Algorithm = "ACS3-HMAC-SHA256"

type acs3Auth struct {
	accessKeyID   string
	signedHeaders []string
	signature     string
}

var errIncompleteAuth = errors.New("incomplete ACS3 Authorization header")

// parseACS3Authorization parses
// "ACS3-HMAC-SHA256 Credential=<AK>,SignedHeaders=<a;b>,Signature=<hex>".
func parseACS3Authorization(h string) (acs3Auth, error) {
	var a acs3Auth
	alg, rest, ok := strings.Cut(h, " ")
	if !ok || alg != acs3Algorithm {
		return a, errIncompleteAuth
	}
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return a, errIncompleteAuth
		}
		switch k {
		case "Credential":
			a.accessKeyID = v
		case "SignedHeaders":
			a.signedHeaders = strings.Split(v, ";")
		case "Signature":
			a.signature = v
		default:
			return a, errIncompleteAuth
		}
	}
	if a.accessKeyID == "" || len(a.signedHeaders) == 0 || a.signature == "" {
		return a, errIncompleteAuth
	}
	return a, nil
}

// canonicalQuery returns the canonical query string; ok is false when a key repeats (the SDK
// sends a map, so a repeated key means the query was altered).
func canonicalQuery(q url.Values) (string, bool) {
	keys := make([]string, 0, len(q))
	for k, vs := range q {
		if len(vs) != 1 {
			return "", false
		}
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return bytes.Compare([]byte(keys[i]), []byte(keys[j])) < 0 })
	var b strings.Builder
	for _, k := range keys {
		v := q[k][0]
		b.WriteString("&" + k + "=")
		if v != "" {
			b.WriteString(url.QueryEscape(v))
		}
	}
	s := b.String()
	s = strings.ReplaceAll(s, "+", "%20")
	s = strings.ReplaceAll(s, "*", "%2A")
	s = strings.ReplaceAll(s, "%7E", "~")
	return strings.TrimLeft(s, "&"), true
}

func canonicalURI(path string) string {
	if path == "" {
		path = "/"
	}
	path = strings.ReplaceAll(path, "+", "%20")
	path = strings.ReplaceAll(path, "*", "%2A")
	return strings.ReplaceAll(path, "%7E", "~")
}

// headerValue is what the SDK signed for a lower-case header name.
func headerValue(r *http.Request, name string) (string, bool) {
	if name == "host" {
		return strings.TrimSpace(r.Host), r.Host != ""
	}
	vs := r.Header.Values(name)
	if len(vs) == 0 {
		return "", false
	}
	trimmed := make([]string, len(vs))
	for i, v := range vs {
		trimmed[i] = strings.TrimSpace(v)
	}
	sort.Strings(trimmed)
	return strings.Join(trimmed, ","), true
}

// acs3StringToSign rebuilds the string to sign. signed must be the sorted header list from the
// Authorization header.
func acs3StringToSign(r *http.Request, q string, signed []string, payloadHash string) string {
	var hb strings.Builder
	for _, name := range signed {
		v, _ := headerValue(r, name)
		hb.WriteString(name + ":" + v + "\n")
	}
	canonicalRequest := r.Method + "\n" + canonicalURI(r.URL.Path) + "\n" + q + "\n" + hb.String() + "\n" +
		strings.Join(signed, ";") + "\n" + payloadHash
	sum := sha256.Sum256([]byte(canonicalRequest))
	return acs3Algorithm + "\n" + hex.EncodeToString(sum[:])
}

func acs3Sign(secret, stringToSign string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(stringToSign))
	return hex.EncodeToString(m.Sum(nil))
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// legacyStringToSign is METHOD&%2F&<percent-encoded sorted params>.
func legacyStringToSign(method string, params map[string]string) string {
	v := url.Values{}
	for k, x := range params {
		v.Add(k, x)
	}
	s := v.Encode()
	s = strings.ReplaceAll(s, "+", "%20")
	s = strings.ReplaceAll(s, "*", "%2A")
	s = strings.ReplaceAll(s, "%7E", "~")
	return method + "&%2F&" + url.QueryEscape(s)
}

func legacySign(secret, stringToSign string) string {
	m := hmac.New(sha1.New, []byte(secret+"&"))
	m.Write([]byte(stringToSign))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}
