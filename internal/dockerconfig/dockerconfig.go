// Package dockerconfig adds credHelpers entries to docker's config.json
// (`docker-credential-acr configure-docker`).
//
// The edit keeps the file as it was outside the entries it sets: it never decodes and re-encodes
// the document (that would drop members it does not know, turn 2.50 into 2.5, 1e3 into 1000, lose
// digits of big integers and rewrite string escapes) but splices the bytes; see SetCredHelpers.
//
// Decisions:
//   - A missing file is created (its directory 0700, the file 0600). An empty (or whitespace-only)
//     file is read as {}, as docker reads it.
//   - A file that is not valid JSON, starts with a UTF-8 byte order mark, has a top level that is
//     not an object, or whose credHelpers is ambiguous or not an object is refused: nothing is
//     written and the error says why.
//   - An existing file keeps its permission bits and, where the process may set them, its owner and
//     group. It is replaced atomically: a temporary file in the same directory, fsync, rename.
//   - A symbolic link is followed: the link stays and the file it points to is replaced (that is
//     what dotfile managers expect). A link to a missing file is refused.
//   - Run as root, it refuses a config file, a directory on its path or a link target that another
//     user owns or that group or others can write (internal/trustedpath): sudo keeping a user's
//     HOME must not let that user's links aim root's write at a root-owned file.
//   - If the file changes between reading and renaming (docker login writing it), nothing is
//     written and the error says to run again.
package dockerconfig

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/docker-credential-acr/docker-credential-acr/internal/trustedpath"
)

// defaultHelperName is the name docker is given in credHelpers: it runs docker-credential-<name>.
const defaultHelperName = "acr"

// configFileName is docker's config file in its config directory.
const configFileName = "config.json"

// options of configure.
type options struct {
	// ConfigDir is docker's config directory; empty means $DOCKER_CONFIG, else ~/.docker.
	ConfigDir string
	// Hosts are the registry hosts to map to the helper; each is normalized (normalizeHost).
	Hosts []string
	// HelperName is the credHelpers value; empty means "acr".
	HelperName string
	// DryRun reports the plan and writes nothing.
	DryRun bool
	// Out receives the human report (nil: none).
	Out io.Writer
	// LookPath finds the helper binary for the PATH warning; nil means exec.LookPath.
	LookPath func(string) (string, error)
	// Getenv is the environment's lookup (DOCKER_CONFIG, HOME) when ConfigDir is empty.
	Getenv func(string) string
}

// result of Configure.
type result struct {
	Path     string   // the config file (after following a symbolic link)
	Changes  []change // one per host, in order
	Created  bool     // the file did not exist (and was created unless DryRun)
	Written  bool     // the file was written
	Notes    []string // how hosts were normalized; hosts that also have a login in auths
	Warnings []string // e.g. the helper binary is not on PATH
	Content  []byte   // the document as written, or as it would be written in a dry run
}

// defaultConfigDir is $DOCKER_CONFIG, else ~/.docker, looked up with getenv.
func defaultConfigDir(getenv func(string) string) (string, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	if d := getenv("DOCKER_CONFIG"); d != "" {
		return d, nil
	}
	home := getenv("HOME")
	if home == "" {
		home = getenv("USERPROFILE") // Windows
	}
	if home == "" {
		return "", errors.New("cannot find docker's config directory: set DOCKER_CONFIG (or HOME)")
	}
	return filepath.Join(home, ".docker"), nil
}

// configure maps opts.Hosts to the helper in the credHelpers of docker's config.json.
func configure(opts options) (result, error) {
	var res result
	helper := opts.HelperName
	if helper == "" {
		helper = defaultHelperName
	}
	if !validHelperName(helper) {
		return res, fmt.Errorf("%q is not a credential helper name (docker runs docker-credential-<name>)", helper)
	}
	hosts, notes, err := normalizeHosts(opts.Hosts)
	res.Notes = notes
	if err != nil {
		return res, err
	}
	dir := opts.ConfigDir
	if dir == "" {
		if dir, err = defaultConfigDir(opts.Getenv); err != nil {
			return res, err
		}
	}
	path := filepath.Join(dir, configFileName)
	res.Path = path

	lookPath := opts.LookPath
	if lookPath == nil {
		lookPath = exec.LookPath
	}
	bin := "docker-credential-" + helper
	if _, err := lookPath(bin); err != nil {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%s is not on PATH: docker runs the helper by that name, so pulls from these registries will fail until it is (install it into a directory on PATH, e.g. /usr/local/bin)", bin))
	}

	// Root edits only what no other user could have put in its way: the path is resolved
	// component by component, each link read and its target checked, every directory and the
	// file owned by root and not writable by group or others. With a user's HOME (sudo keeping
	// it), a link the user made would otherwise have root rewrite a root-owned file.
	if os.Geteuid() == 0 {
		resolved, _, err := trustedpath.Resolve(path, 0)
		if err != nil {
			return res, fmt.Errorf("refusing to edit %s as root: %v; run configure-docker as the user whose docker config it is (without sudo, or sudo -u <user>), or set DOCKER_CONFIG to a directory root owns", path, err)
		}
		if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
			if _, err := os.Stat(resolved); err != nil {
				return res, fmt.Errorf("%s is a symbolic link whose target cannot be read (%v); fix or remove the link", path, err)
			}
		}
		path = resolved
		res.Path = resolved
	}

	// Follow a symbolic link: the link stays, its target is edited.
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		target, err := filepath.EvalSymlinks(path)
		if err != nil {
			return res, fmt.Errorf("%s is a symbolic link whose target cannot be read (%v); fix or remove the link", path, err)
		}
		path = target
		res.Path = target
	}

	var (
		orig []byte
		info fs.FileInfo
	)
	switch fi, err := os.Stat(path); {
	case errors.Is(err, fs.ErrNotExist):
		res.Created = true
	case err != nil:
		return res, err
	case !fi.Mode().IsRegular():
		return res, fmt.Errorf("%s is not a regular file", path)
	default:
		info = fi
		if orig, err = os.ReadFile(path); err != nil {
			return res, err
		}
	}

	out, changes, err := setCredHelpers(orig, hosts, helper)
	if err != nil {
		return res, fmt.Errorf("%s: %w; it was left untouched", path, err)
	}
	res.Changes = changes
	res.Content = out
	for _, h := range authsFor(orig, hosts) {
		res.Notes = append(res.Notes, fmt.Sprintf("auths also holds a login for %s; docker uses the helper for that host from now on", h))
	}
	changed := res.Created || !bytes.Equal(out, orig)

	if !opts.DryRun && changed {
		if res.Created {
			if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
				return res, err
			}
		}
		if err := writeAtomic(path, out, info, orig); err != nil {
			return res, err
		}
		res.Written = true
	}
	report(opts.Out, res, opts.DryRun, changed)
	return res, nil
}

func report(w io.Writer, res result, dryRun, changed bool) {
	if w == nil {
		return
	}
	switch {
	case dryRun && res.Created:
		fmt.Fprintf(w, "%s does not exist; it would be created with:\n", res.Path)
	case dryRun && changed:
		fmt.Fprintf(w, "%s would be changed:\n", res.Path)
	case dryRun:
		fmt.Fprintf(w, "%s already has these entries; nothing would change:\n", res.Path)
	case res.Created:
		fmt.Fprintf(w, "created %s:\n", res.Path)
	case changed:
		fmt.Fprintf(w, "updated %s:\n", res.Path)
	default:
		fmt.Fprintf(w, "%s already has these entries; nothing written:\n", res.Path)
	}
	for _, c := range res.Changes {
		fmt.Fprintf(w, "  %s\n", c)
	}
	for _, n := range res.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	if dryRun {
		// Only credHelpers: the rest of the file may hold credentials (auths).
		if raw := credHelpersRaw(res.Content); raw != nil {
			fmt.Fprintf(w, "credHelpers would be: %s\n", raw)
		}
		fmt.Fprintln(w, "dry run: nothing was written")
	}
}

func validHelperName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// normalizeHosts normalizes and de-duplicates hosts, keeping their order. Every invalid host is
// named in the error.
func normalizeHosts(in []string) (hosts, notes []string, err error) {
	seen := map[string]bool{}
	var bad []string
	for _, s := range in {
		h, note, err := normalizeHost(s)
		if err != nil {
			bad = append(bad, err.Error())
			continue
		}
		if note != "" {
			notes = append(notes, note)
		}
		keys := []string{h}
		if h == dockerHub || h == dockerHubIndexServer {
			keys = dockerHubKeys // every client's name of Docker Hub, or some clients miss the helper
		}
		for _, h := range keys {
			if !seen[h] {
				seen[h] = true
				hosts = append(hosts, h)
			}
		}
	}
	if len(bad) > 0 {
		return nil, notes, errors.New(strings.Join(bad, "\n"))
	}
	if len(hosts) == 0 {
		return nil, notes, errNoHosts
	}
	return hosts, notes, nil
}

// authsFor lists the hosts that doc's auths has a login for ("host", "https://host/v1/", ...).
// It reads keys only, and tolerates anything it cannot read.
func authsFor(doc []byte, hosts []string) []string {
	var v struct {
		Auths map[string]json.RawMessage `json:"auths"`
	}
	if len(doc) == 0 || json.Unmarshal(doc, &v) != nil {
		return nil
	}
	have := map[string]bool{}
	for k := range v.Auths {
		k = strings.ToLower(k)
		k = strings.TrimPrefix(strings.TrimPrefix(k, "https://"), "http://")
		if i := strings.IndexByte(k, '/'); i >= 0 {
			k = k[:i]
		}
		have[k] = true
	}
	var out []string
	for _, h := range hosts {
		if have[h] {
			out = append(out, h)
		}
	}
	return out
}

// errNoHosts: there is no registry host to configure.
var errNoHosts = errors.New("no registry hosts to configure: pass --registries host[,host...] (for example --registries registry.cn-hangzhou.aliyuncs.com), or list domains in the helper's config file")

// writeAtomic replaces path with data: a temporary file in the same directory, fsync, rename.
// info is the existing file (nil for a new one, which gets mode 0600); its permission bits and,
// where possible, owner are kept. If the file no longer holds orig (or, for a new file, exists)
// when the rename is due, nothing is written.
func writeAtomic(path string, data []byte, info fs.FileInfo, orig []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("cannot write in %s: %w", dir, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	perm := fs.FileMode(0o600)
	if info != nil {
		perm = info.Mode().Perm()
	}
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Chmod(perm); err != nil {
		return err
	}
	if info != nil {
		if err = keepOwner(f, info); err != nil {
			return fmt.Errorf("cannot give the new %s the owner of the old one (%v); nothing was written", path, err)
		}
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	now, rerr := os.ReadFile(path)
	switch {
	case info == nil && rerr == nil:
		return fmt.Errorf("%s appeared while it was being written; nothing was written, run again", path)
	case info != nil && (rerr != nil || !bytes.Equal(now, orig)):
		return fmt.Errorf("%s changed while it was being edited (docker login?); nothing was written, run again", path)
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	syncDir(dir)
	return nil
}
