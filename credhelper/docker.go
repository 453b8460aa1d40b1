package credhelper

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/docker-credential-acr/docker-credential-acr/keychain"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/docker/docker-credential-helpers/credentials"
)

// maxInput bounds what a protocol command reads from stdin. A server URL is at most a few hundred
// bytes and a `store` payload a few kilobytes; anything larger is rejected, never truncated.
const maxInput = 64 << 10

// Docker serves the docker credential-helper protocol (get, store, erase, list).
type Docker struct {
	Keychain *keychain.Keychain
	Ctx      context.Context
	Strict   bool
}

// Handle runs one protocol command: it reads at most maxInput bytes of in, and writes only the
// protocol answer to out. The returned error is what the protocol reports (on out, exit 1).
func (d *Docker) Handle(action string, in io.Reader, out io.Writer) error {
	var data []byte
	switch action {
	case credentials.ActionGet, credentials.ActionErase, credentials.ActionStore:
		b, err := io.ReadAll(io.LimitReader(in, maxInput+1))
		if err != nil {
			return fmt.Errorf("reading stdin: %v", err)
		}
		if len(b) > maxInput {
			return fmt.Errorf("input larger than %d bytes: not a credential-helper request", maxInput)
		}
		data = b
	case credentials.ActionList, credentials.ActionVersion:
	default:
		return fmt.Errorf("unknown command %q: want get, store, erase, list or version (docker-credential-acr, the Alibaba Cloud Container Registry helper)", action)
	}
	if action == credentials.ActionGet || action == credentials.ActionErase {
		// The library joins lines; a host split over lines, or holding control characters, must
		// not be glued into something that looks valid.
		s := strings.TrimSpace(string(data))
		if s != "" && !cleanServerURL(s) {
			if action == credentials.ActionGet {
				return credentials.NewErrCredentialsNotFound()
			}
			return fmt.Errorf("%q is not a registry host", truncate(s))
		}
	}
	if action == credentials.ActionStore {
		var c credentials.Credentials
		if err := json.Unmarshal(data, &c); err != nil {
			return fmt.Errorf("store: the input is not the JSON docker sends ({\"ServerURL\":…,\"Username\":…,\"Secret\":…}): %v; nothing was stored", err)
		}
	}
	return credentials.HandleCommand(d, action, bytes.NewReader(data), out)
}

func cleanServerURL(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return false
		}
	}
	return true
}

func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// Get implements credentials.Helper.
func (d *Docker) Get(serverURL string) (string, string, error) {
	l, err := d.Keychain.Get(d.Ctx, serverURL)
	if err == nil {
		// Which login went out, so that a registry's 401 can be traced to it (never the secret).
		attrs := []any{"host", serverURL, "user", l.Username, "source", l.Source}
		if !l.ExpiresAt.IsZero() {
			attrs = append(attrs, "expires", l.ExpiresAt.UTC().Format(time.RFC3339))
		}
		d.Keychain.Logger().Debug("login handed out", attrs...)
		return l.Username, l.Secret, nil
	}
	var nf *keychain.NotFoundError
	if errors.As(err, &nf) {
		switch {
		case nf.NoCredentials:
			// Not a failure: with no credentials the answer is "not found" and clients pull
			// anonymously, so stderr stays quiet at the default level. doctor explains.
			d.Keychain.Logger().Info(nf.Hint)
		case nf.Hint != "":
			d.Keychain.Logger().Warn(nf.Hint)
		default:
			d.Keychain.Logger().Debug("not an Alibaba Cloud ACR host, and no config entry lists it in domains: answering not found", "host", truncate(serverURL))
		}
		return "", "", credentials.NewErrCredentialsNotFound()
	}
	if d.Strict {
		return "", "", err
	}
	d.Keychain.Logger().Error(err.Error() + " (going on without credentials; DOCKER_CREDENTIAL_ACR_STRICT=1 makes this an error)")
	return "", "", credentials.NewErrCredentialsNotFound()
}

// Add implements credentials.Helper: `docker login` to a host configured with this helper.
func (d *Docker) Add(c *credentials.Credentials) error {
	reg, err := keychain.ParseServer(c.ServerURL)
	if err != nil {
		return fmt.Errorf("cannot store credentials: %q is not a registry host", truncate(c.ServerURL))
	}
	if c.Secret == "" {
		return errors.New("cannot store credentials: the secret is empty")
	}
	if d.Keychain.Logins == nil {
		return errors.New("cannot store credentials: the credentials store is not available (see the warning above)")
	}
	return d.Keychain.Logins.Put(reg.Host, c.Username, c.Secret)
}

// Delete implements credentials.Helper: `docker logout` forgets stored and cached credentials.
func (d *Docker) Delete(serverURL string) error {
	reg, err := keychain.ParseServer(serverURL)
	if err != nil {
		return fmt.Errorf("%q is not a registry host", truncate(serverURL))
	}
	if d.Keychain.Logins != nil {
		if _, err := d.Keychain.Logins.Delete(reg.Host); err != nil {
			return err
		}
	}
	if _, err := d.Keychain.Cache.RemoveHost(reg.Host); err != nil {
		return err
	}
	// The token this host would use may have been fetched under another host of the same
	// region or instance.
	if p, err := d.Keychain.Plan(d.Ctx, reg); err == nil {
		if _, err := d.Keychain.Cache.Remove(p.Key); err != nil {
			return err
		}
	}
	return nil
}

// List implements credentials.Helper: stored and cached hosts with their user names.
func (d *Docker) List() (map[string]string, error) {
	out := map[string]string{}
	entries, err := d.Keychain.Cache.List()
	if err != nil {
		return nil, err
	}
	now := d.Keychain.Now()
	for _, e := range entries {
		if e.Valid(now) {
			out[e.Host] = e.Username
		}
	}
	if d.Keychain.Logins != nil {
		stored, err := d.Keychain.Logins.List()
		if err != nil {
			return nil, err
		}
		for h, u := range stored {
			out[h] = u
		}
	}
	return out, nil
}
