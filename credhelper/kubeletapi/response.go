package kubeletapi

import "log/slog"

// Response is a CredentialProviderResponse.
type Response struct {
	APIVersion   string `json:"apiVersion"`
	Kind         string `json:"kind"`
	CacheKeyType string `json:"cacheKeyType"`
	// CacheDuration is a Go duration ("44m59s", as metav1.Duration encodes it); "" leaves it
	// out (the kubelet then uses defaultCacheDuration), "0s" tells the kubelet not to cache.
	CacheDuration string          `json:"cacheDuration,omitempty"`
	Auth          map[string]Auth `json:"auth,omitempty"`
}

// Auth is the login for the registries matching one auth key.
type Auth struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// String keeps the password out of logs and %v.
func (a Auth) String() string { return "{" + a.Username + " <password>}" }

// GoString keeps the password out of %#v.
func (a Auth) GoString() string { return "kubeletapi.Auth" + a.String() }

// LogValue keeps the password out of structured logs.
func (a Auth) LogValue() slog.Value {
	return slog.GroupValue(slog.String("username", a.Username), slog.String("password", "<password>"))
}
