package refresh

import (
	"encoding/base64"
	"encoding/json"
)

// auth is one entry of a dockerconfigjson's auths, as the kubelet and docker read it.
type auth struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Auth     string `json:"auth"`
	Email    string `json:"email,omitempty"`
}

type dockerConfig struct {
	Auths map[string]auth `json:"auths"`
}

// dockerConfigJSON builds the Secret's .dockerconfigjson: every host of every registry with a token;
// a registry without a token in this process yet (a new leader whose first fetch failed) keeps the
// entries of the current Secret, so a leader change never takes a working login away. ok is false
// when there is nothing to write at all.
func dockerConfigJSON(regs []Registry, tokens map[string]Token, email string, current []byte) (data []byte, ok bool) {
	var cur dockerConfig
	if len(current) > 0 {
		_ = json.Unmarshal(current, &cur) // a foreign or broken Secret keeps nothing
	}
	out := dockerConfig{Auths: map[string]auth{}}
	for _, r := range regs {
		t, have := tokens[r.Key]
		hosts := r.Hosts
		if have && len(t.Hosts) > 0 {
			hosts = t.Hosts
		}
		for _, h := range hosts {
			if _, taken := out.Auths[h]; taken {
				continue // an earlier entry serves this host: one host, one login
			}
			switch {
			case have:
				out.Auths[h] = auth{Username: t.Username, Password: t.Password, Email: email,
					Auth: base64.StdEncoding.EncodeToString([]byte(t.Username + ":" + t.Password))}
			case cur.Auths != nil:
				if a, found := cur.Auths[h]; found {
					out.Auths[h] = a
				}
			}
		}
	}
	if len(out.Auths) == 0 {
		return nil, false
	}
	data, err := json.Marshal(out) // map keys are sorted: the same logins give the same bytes
	if err != nil {
		return nil, false
	}
	return data, true
}
