package keychain

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/docker/docker-credential-helpers/credentials"
)

// Helper is the Keychain as a docker credential helper (docker-credential-helpers'
// credentials.Helper), answering as the binary does: Get is the binary's `get` (not found,
// credentials.NewErrCredentialsNotFound(), exactly where the binary answers so), Add is `store`
// (`docker login`), Delete is `erase` and List is `list`. Each call has the config's Timeout.
// Unlike Keychain.Get, its Get also answers the logins stored with Add for hosts the keychain
// does not otherwise serve, as a credential store must.
func (k *Keychain) Helper() credentials.Helper { return k.HelperContext(context.Background()) }

// HelperContext is Helper whose calls also end when ctx does.
func (k *Keychain) HelperContext(ctx context.Context) credentials.Helper {
	return &helper{k: k, ctx: ctx}
}

type helper struct {
	k   *Keychain
	ctx context.Context
}

func (h *helper) context() (context.Context, context.CancelFunc) {
	if t := h.k.Config.Timeout; t > 0 {
		return context.WithTimeout(h.ctx, t)
	}
	return context.WithCancel(h.ctx)
}

// LoginOrStored is Login, then, for a host the keychain does not serve, the login stored for it
// with `docker login` (Helper's Add), if any: what the binary's protocols answer.
func (k *Keychain) LoginOrStored(ctx context.Context, serverURL string) (Login, error) {
	l, err := k.Login(ctx, serverURL)
	var nf *NotFoundError
	if err == nil || k.Logins == nil || !errors.As(err, &nf) || nf.Hint != "" {
		return l, err
	}
	reg, perr := ParseServer(serverURL)
	if perr != nil {
		return l, err
	}
	if u, s, ok := k.Logins.Get(reg.Host); ok {
		return Login{Username: u, Secret: s, Source: "stored"}, nil
	}
	return l, err
}

// Get implements credentials.Helper.
func (h *helper) Get(serverURL string) (string, string, error) {
	ctx, cancel := h.context()
	defer cancel()
	k := h.k
	l, err := k.LoginOrStored(ctx, serverURL)
	if err == nil {
		// Which login went out, so that a registry's 401 can be traced to it (never the secret).
		attrs := []any{"host", serverURL, "user", l.Username, "source", l.Source}
		if !l.ExpiresAt.IsZero() {
			attrs = append(attrs, "expires", l.ExpiresAt.UTC().Format(time.RFC3339))
		}
		k.Logger().Debug("login handed out", attrs...)
		return l.Username, l.Secret, nil
	}
	var nf *NotFoundError
	if errors.As(err, &nf) {
		switch {
		case nf.NoCredentials:
			// Not a failure: with no credentials the answer is "not found" and clients pull
			// anonymously, so stderr stays quiet at the default level. doctor explains.
			k.Logger().Info(nf.Hint)
		case nf.Hint != "":
			k.Logger().Warn(nf.Hint)
		default:
			k.Logger().Debug("not an Alibaba Cloud ACR host, and no config entry lists it in domains: answering not found", "host", truncate(serverURL))
		}
		return "", "", credentials.NewErrCredentialsNotFound()
	}
	if k.Config.Strict {
		return "", "", err
	}
	k.Logger().Error(err.Error() + " (going on without credentials; DOCKER_CREDENTIAL_ACR_STRICT=1 makes this an error)")
	return "", "", credentials.NewErrCredentialsNotFound()
}

// Add implements credentials.Helper: `docker login` to a host configured with this helper.
func (h *helper) Add(c *credentials.Credentials) error {
	if c == nil {
		return errors.New("cannot store credentials: none given")
	}
	reg, err := ParseServer(c.ServerURL)
	if err != nil {
		return fmt.Errorf("cannot store credentials: %q is not a registry host", truncate(c.ServerURL))
	}
	if c.Secret == "" {
		return errors.New("cannot store credentials: the secret is empty")
	}
	if h.k.Logins == nil {
		return errors.New("cannot store credentials: the credentials store is not available (see the warning above)")
	}
	return h.k.Logins.Put(reg.Host, c.Username, c.Secret)
}

// Delete implements credentials.Helper: `docker logout` forgets stored and cached credentials.
func (h *helper) Delete(serverURL string) error {
	k := h.k
	reg, err := ParseServer(serverURL)
	if err != nil {
		return fmt.Errorf("%q is not a registry host", truncate(serverURL))
	}
	if k.Logins != nil {
		if _, err := k.Logins.Delete(reg.Host); err != nil {
			return err
		}
	}
	if _, err := k.Cache.RemoveHost(reg.Host); err != nil {
		return err
	}
	// The token this host would use may have been fetched under another host of the same
	// region or instance.
	ctx, cancel := h.context()
	defer cancel()
	if p, err := k.Plan(ctx, reg); err == nil {
		if _, err := k.Cache.Remove(p.Key); err != nil {
			return err
		}
	}
	return nil
}

// List implements credentials.Helper: stored and cached hosts with their user names.
func (h *helper) List() (map[string]string, error) {
	k := h.k
	out := map[string]string{}
	entries, err := k.Cache.List()
	if err != nil {
		return nil, err
	}
	now := k.Now()
	for _, e := range entries {
		if e.Valid(now) {
			out[e.Host] = e.Username
		}
	}
	if k.Logins != nil {
		stored, err := k.Logins.List()
		if err != nil {
			return nil, err
		}
		for h, u := range stored {
			out[h] = u
		}
	}
	return out, nil
}

// truncate shortens what a caller sent for a message: a server URL can be anything.
func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
