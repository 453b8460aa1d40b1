package cache

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
)

const (
	loginPrefix = "login-"
	loginSuffix = ".json"
	kindLogin   = "login"
)

// Logins keeps the credentials users give with `docker login` (Personal crpi- instances have no
// temporary tokens): one 0600 file per host in a private 0700 directory, written atomically.
// The directory is made on the first Put: reading never creates anything.
type Logins struct {
	dir string
	s   *Store // nil until the directory exists and was checked
}

// OpenLoginsDir opens the login store in dir (the caller's data directory,
// not the cache directory), with the same safety checks as the cache. A
// directory that does not exist yet is no error: it is made by the first Put.
func OpenLoginsDir(dir string) (*Logins, error) {
	l := &Logins{dir: dir}
	if _, err := os.Lstat(dir); err == nil {
		if l.s, err = Open(dir); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// store returns the Store, making the directory if needed.
func (l *Logins) store() (*Store, error) {
	if l.s == nil {
		s, err := Open(l.dir)
		if err != nil {
			return nil, err
		}
		l.s = s
	}
	return l.s, nil
}

type loginFile struct {
	V        int    `json:"v"`
	Kind     string `json:"kind"`
	Host     string `json:"host"`
	Username string `json:"username"`
	Secret   string `json:"secret"`
}

func loginName(host string) string { return loginPrefix + Key("login", host) + loginSuffix }

func (l *Logins) read(name string) (loginFile, bool) {
	data, release, ok := l.s.readEntryFile(name)
	if !ok {
		return loginFile{}, false
	}
	defer release()
	var f loginFile
	if json.Unmarshal(data, &f) != nil || f.V != formatVersion || f.Kind != kindLogin || f.Host == "" || f.Secret == "" {
		return loginFile{}, false
	}
	return f, true
}

// Get returns the stored login of host (a canonical host).
func (l *Logins) Get(host string) (string, string, bool) {
	if l == nil || l.s == nil {
		return "", "", false
	}
	f, ok := l.read(loginName(host))
	if !ok || f.Host != host {
		return "", "", false
	}
	return f.Username, f.Secret, true
}

// Put stores the login of host.
func (l *Logins) Put(host, username, secret string) error {
	if l == nil {
		return errors.New("no login store")
	}
	data, err := json.Marshal(loginFile{V: formatVersion, Kind: kindLogin, Host: host, Username: username, Secret: secret})
	if err != nil {
		return err
	}
	if len(data) > maxEntrySize {
		return fmt.Errorf("credentials larger than %d bytes are not stored", maxEntrySize)
	}
	s, err := l.store()
	if err != nil {
		return err
	}
	return s.writeAtomic(loginName(host), data)
}

// Delete forgets the login of host; it reports whether there was one.
func (l *Logins) Delete(host string) (bool, error) {
	if l == nil || l.s == nil {
		return false, nil
	}
	err := l.s.d.remove(loginName(host))
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// List returns host → username of every stored login.
func (l *Logins) List() (map[string]string, error) {
	out := map[string]string{}
	if l == nil || l.s == nil {
		return out, nil
	}
	names, err := l.s.d.names()
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		if !strings.HasPrefix(name, loginPrefix) || !strings.HasSuffix(name, loginSuffix) {
			continue
		}
		if f, ok := l.read(name); ok {
			out[f.Host] = f.Username
		}
	}
	return out, nil
}
