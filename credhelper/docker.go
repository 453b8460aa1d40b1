package credhelper

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/docker-credential-acr/docker-credential-acr/keychain"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/docker/docker-credential-helpers/credentials"
)

// maxInput bounds what a protocol command reads from stdin. A server URL is at most a few hundred
// bytes and a `store` payload a few kilobytes; anything larger is rejected, never truncated.
const maxInput = 64 << 10

// Docker serves the docker credential-helper protocol (get, store, erase, list) with the
// keychain's credentials.Helper, bound to the command's context; the config's strict setting
// decides whether a failure is an error or "not found".
type Docker struct {
	Keychain *keychain.Keychain
	Ctx      context.Context
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
	return credentials.HandleCommand(d.Keychain.HelperContext(d.Ctx), action, bytes.NewReader(data), out)
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
