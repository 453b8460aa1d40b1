package kubeletinstall

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/docker-credential-acr/docker-credential-acr/config"
)

// HelperConfigPath is where --helper-config puts the helper's config on the node; the provider's
// entry names it in DOCKER_CREDENTIAL_ACR_CONFIG.
const HelperConfigPath = "/etc/docker-credential-acr/config.yaml"

// Installer installs or uninstalls the plugin on the node under Root.
type Installer struct {
	Root    string
	Profile *Profile
	// Config is the CredentialProviderConfig print-kubelet-config writes for the options, and
	// Provider the name of its entry (the executable's name in the plugin directory).
	Config   []byte
	Provider string
	// Binary is this executable's content and Version the version it reports ("" unknown).
	Binary  []byte
	Version string
	// ReplaceBinary replaces a binary in the plugin directory whose version cannot be compared.
	ReplaceBinary bool
	// HelperConfig, when not nil, is put at HelperConfigPath.
	HelperConfig []byte
	// Restart restarts the unit on the host and returns the command it ran; nil with NoRestart.
	Restart   func(unit string) (string, error)
	NoRestart bool
	// DryRun prints the changes as a diff and changes nothing.
	DryRun bool
	Out    io.Writer

	// Pending is set by a DryRun to the number of files it would change.
	Pending int

	// failWrite (tests) makes the write of this node path fail.
	failWrite string
}

// change is one file the installer writes (or removes).
type change struct {
	rec    Record // Path, Kind and the kind's fields
	before nodeFile
	after  []byte
	remove bool
	mode   fs.FileMode
	what   string
}

func (c change) changes() bool {
	if c.remove {
		return c.before.Exists
	}
	return !c.before.Exists || !bytes.Equal(c.before.Data, c.after)
}

func (in *Installer) say(format string, a ...any) { fmt.Fprintf(in.Out, format+"\n", a...) }

// Install puts the plugin on the node; running it again changes nothing.
func (in *Installer) Install() error {
	unlock, err := lockRoot(in.Root)
	if err != nil {
		return err
	}
	defer unlock()
	st, _, err := loadState(in.Root)
	if err != nil {
		return err
	}
	p := in.Profile
	for _, w := range p.Why {
		in.say("%s", w)
	}
	var changes []change

	bin, err := in.planBinary(st)
	if err != nil {
		return err
	}
	if bin != nil {
		changes = append(changes, *bin)
	}

	ours := in.Config
	if in.HelperConfig != nil {
		f, err := statNodeFile(in.Root, HelperConfigPath)
		if err != nil {
			return err
		}
		changes = append(changes, change{rec: Record{Path: HelperConfigPath, Kind: kindHelperConfig}, before: f, after: in.HelperConfig, mode: 0o600, what: "the helper's config"})
		if ours, err = withEnv(ours, in.Provider, config.EnvConfig, HelperConfigPath); err != nil {
			return err
		}
	}

	if fi, err := os.Stat(filepath.Join(in.Root, p.ConfigFile)); err == nil && fi.IsDir() {
		return fmt.Errorf("%s: %w: the kubelet's --image-credential-provider-config names a directory; add a file for the ACR provider there by hand (print-kubelet-config prints it)", p.ConfigFile, ErrCannotMerge)
	}
	cfg, err := statNodeFile(in.Root, p.ConfigFile)
	if err != nil {
		return err
	}
	merged, err := mergeProvider(p.ConfigFile, cfg.Data, ours, in.Provider)
	if err != nil {
		return err
	}
	cfgChange := change{rec: Record{Path: p.ConfigFile, Kind: kindProviderConfig, Provider: in.Provider}, before: cfg, after: merged, mode: modeOr(cfg, 0o644), what: "the credential provider config"}
	changes = append(changes, cfgChange)

	restartWhy := ""
	if p.FlagsFile != "" {
		var want []string
		if !p.HasConfigFlag {
			want = append(want, flagConfig+"="+p.ConfigFile)
		}
		if !p.HasBinDirFlag {
			want = append(want, flagBinDir+"="+p.BinDir)
		}
		if len(want) > 0 {
			ff, err := statNodeFile(in.Root, p.FlagsFile)
			if err != nil {
				return err
			}
			data, added, err := addFlags(ff.Data, p.FlagsVar, want)
			if err != nil {
				return err
			}
			if len(added) > 0 {
				changes = append(changes, change{rec: Record{Path: p.FlagsFile, Kind: kindKubeletFlags, Flags: added, Var: p.FlagsVar}, before: ff, after: data, mode: modeOr(ff, 0o644), what: "the kubelet's flags"})
				restartWhy = "the kubelet's flags changed"
			}
		}
	} else if !cfg.Exists || !isDir(filepath.Join(in.Root, p.BinDir)) {
		restartWhy = fmt.Sprintf("%s passes the kubelet the provider flags once the config and the plugin directory exist", p.Name)
	}
	if restartWhy == "" && cfgChange.changes() {
		restartWhy = "the kubelet reads the credential provider config only when it starts"
	}
	return in.apply(st, changes, restartWhy, false)
}

// planBinary decides about the binary in the plugin directory; nil keeps the one there.
func (in *Installer) planBinary(st *State) (*change, error) {
	path := filepath.Join(in.Profile.BinDir, in.Provider)
	f, err := statNodeFile(in.Root, path)
	if err != nil {
		return nil, err
	}
	c := &change{rec: Record{Path: path, Kind: kindBinary}, before: f, after: in.Binary, mode: 0o755, what: "the plugin"}
	if !f.Exists || bytes.Equal(f.Data, in.Binary) {
		return c, nil
	}
	if r := st.record(path); r != nil && r.After == hashOf(f.Data) {
		return c, nil // the installer's own, from an earlier install: replaced
	}
	theirs := in.binaryVersionOf(path)
	switch {
	case in.ReplaceBinary:
		in.say("%s: replacing the binary there (--replace-binary)", path)
		return c, nil
	case theirs == "" || in.Version == "":
		in.say("%s: left as it is: a binary the installer did not put there, whose version cannot be compared with this one (%s vs %s); --replace-binary replaces it", path, orUnknown(theirs), orUnknown(in.Version))
		return nil, nil
	case compareVersions(theirs, in.Version) >= 0:
		in.say("%s: left as it is: version %s, put there by someone else, is not older than this %s", path, theirs, in.Version)
		return nil, nil
	}
	in.say("%s: replacing version %s with %s", path, theirs, in.Version)
	return c, nil
}

func (in *Installer) binaryVersionOf(path string) string {
	return binaryVersion(filepath.Join(in.Root, path))
}

func orUnknown(v string) string {
	if v == "" {
		return "unknown"
	}
	return v
}

func modeOr(f nodeFile, m fs.FileMode) fs.FileMode {
	if f.Exists {
		return f.Mode
	}
	return m
}

// Uninstall takes out what the record says the installer added.
func (in *Installer) Uninstall() error {
	unlock, err := lockRoot(in.Root)
	if err != nil {
		return err
	}
	defer unlock()
	st, found, err := loadState(in.Root)
	if err != nil {
		return err
	}
	if !found {
		in.say("nothing to uninstall: no record of an install under %s (%s)", in.Root, stateFile)
		return nil
	}
	var changes []change
	restartWhy := ""
	for _, r := range slices.Backward(st.Files) {
		cur, err := statNodeFile(in.Root, r.Path)
		if err != nil {
			return err
		}
		c := change{rec: r, before: cur, mode: modeOr(cur, fs.FileMode(r.Mode)), what: r.Kind}
		switch {
		case !cur.Exists:
			in.say("%s: already gone", r.Path)
			continue
		case hashOf(cur.Data) == r.After && r.Created:
			c.remove = true
		case hashOf(cur.Data) == r.After && r.Backup != "":
			orig, err := readNodeFile(in.Root, r.Backup)
			if err != nil {
				return fmt.Errorf("%s: its copy from before the install (%s) cannot be read: %w", r.Path, r.Backup, err)
			}
			c.after, c.mode = orig, fs.FileMode(r.Mode)
		case r.Kind == kindProviderConfig:
			out, removed, err := removeProvider(r.Path, cur.Data, r.Provider)
			if err != nil {
				return err
			}
			if !removed {
				in.say("%s: changed since the install, and has no %s entry any more: left as it is", r.Path, r.Provider)
				continue
			}
			in.say("%s: changed since the install: taking out only the %s entry", r.Path, r.Provider)
			c.after = out
		case r.Kind == kindKubeletFlags:
			out, removed := removeFlags(cur.Data, r.Var, r.Flags)
			if !removed {
				in.say("%s: changed since the install, and has none of the flags it added any more: left as it is", r.Path)
				continue
			}
			in.say("%s: changed since the install: taking out only the flags it added", r.Path)
			c.after = out
		default:
			in.say("%s: changed since the install (by someone else): left as it is", r.Path)
			continue
		}
		changes = append(changes, c)
		if r.Kind == kindKubeletFlags {
			restartWhy = "a kubelet flag went away"
		}
		if r.Kind == kindProviderConfig && restartWhy == "" {
			restartWhy = "the kubelet reads the credential provider config only when it starts"
			if (st.Profile == ProfileK3s || st.Profile == ProfileRKE2) && c.remove {
				restartWhy = fmt.Sprintf("%s stops passing the kubelet the provider flags once the config is gone", st.Profile)
			}
		}
	}
	// The profile is the one installed with (the record's), whatever --profile says now.
	in.Profile = &Profile{Name: st.Profile, Unit: st.Unit}
	return in.apply(st, changes, restartWhy, true)
}

// apply writes the changes (all of them, or none: a failure puts back those already written),
// records them, and restarts the kubelet when restartWhy says why.
func (in *Installer) apply(st *State, changes []change, restartWhy string, uninstall bool) error {
	var todo []change
	for _, c := range changes {
		if c.changes() {
			todo = append(todo, c)
		}
	}
	if in.DryRun {
		in.Pending = len(todo)
		for _, c := range todo {
			writeDiffOf(in.Out, c)
		}
		if len(todo) == 0 {
			in.say("nothing to change")
		} else if restartWhy != "" {
			in.say("would restart %s: %s", in.Profile.Unit, restartWhy)
		}
		return nil
	}
	// Refuse before writing anything: a file nobody may write is someone's decision.
	for _, c := range todo {
		if c.before.Exists && c.before.Mode&0o222 == 0 {
			return fmt.Errorf("%s is read-only (mode %04o): the installer does not change %s; make it writable, or remove it, and run again",
				c.rec.Path, c.before.Mode, c.what)
		}
	}
	var done []change
	undo := func(cause error) error {
		for _, d := range slices.Backward(done) {
			if d.before.Exists {
				_, _ = writeAtomic(in.Root, d.rec.Path, d.before.Data, d.before.Mode, d.before.UID, d.before.GID)
			} else {
				_ = os.Remove(filepath.Join(in.Root, d.rec.Path))
			}
		}
		if len(done) > 0 {
			return fmt.Errorf("%w (the files already changed were put back)", cause)
		}
		return cause
	}
	for _, c := range todo {
		if c.remove {
			if err := os.Remove(filepath.Join(in.Root, c.rec.Path)); err != nil {
				return undo(fmt.Errorf("removing %s: %w", c.rec.Path, err))
			}
			in.say("removed %s", c.rec.Path)
			done = append(done, c)
			continue
		}
		dirs, err := writeAtomic(in.Root, c.rec.Path, c.after, c.mode, c.before.UID, c.before.GID)
		if err == nil && c.rec.Path == in.failWrite {
			err = fmt.Errorf("writing %s: test failure", c.rec.Path)
			done = append(done, c)
		}
		if err != nil {
			return undo(err)
		}
		c.rec.Dirs = dirs
		done = append(done, c)
		if uninstall {
			in.say("restored %s", c.rec.Path)
		} else if c.before.Exists {
			in.say("updated %s (%s)", c.rec.Path, c.what)
		} else {
			in.say("created %s (%s)", c.rec.Path, c.what)
		}
	}
	if uninstall {
		if err := removeState(in.Root, st); err != nil {
			return fmt.Errorf("the files are restored, but the record could not be removed: %w", err)
		}
	} else {
		if err := in.record(st, done); err != nil {
			return undo(err)
		}
		if len(todo) == 0 {
			in.say("nothing to change: the plugin is installed")
		}
	}
	return in.restart(restartWhy)
}

// record updates the state with the written changes; the first copy of a file is kept across
// installs, and dropped when someone else changed the file since the installer last wrote it.
func (in *Installer) record(st *State, done []change) error {
	st.Profile, st.Unit = in.Profile.Name, in.Profile.Unit
	for _, c := range done {
		r := st.record(c.rec.Path)
		if r == nil {
			rec := c.rec
			rec.Created = !c.before.Exists
			if c.before.Exists {
				b, err := writeBackup(in.Root, st, c.rec.Path, c.before.Data)
				if err != nil {
					return err
				}
				rec.Backup, rec.Mode = b, uint32(c.before.Mode)
			}
			rec.After = hashOf(c.after)
			st.Files = append(st.Files, rec)
			continue
		}
		if hashOf(c.before.Data) != r.After || !c.before.Exists {
			r.Created = false
			if r.Backup != "" {
				_ = os.Remove(filepath.Join(in.Root, r.Backup))
			}
			r.Backup = ""
		}
		for _, f := range c.rec.Flags {
			if !slices.Contains(r.Flags, f) {
				r.Flags = append(r.Flags, f)
			}
		}
		if len(r.Dirs) == 0 {
			r.Dirs = c.rec.Dirs
		}
		r.After = hashOf(c.after)
	}
	if len(st.Files) == 0 {
		return nil
	}
	return saveState(in.Root, st)
}

func (in *Installer) restart(why string) error {
	if why == "" {
		return nil
	}
	if in.NoRestart || in.Restart == nil {
		in.say("restart %s yourself to take effect (%s; --no-restart)", in.Profile.Unit, why)
		return nil
	}
	cmd, err := in.Restart(in.Profile.Unit)
	if err != nil {
		return fmt.Errorf("the files are in place, but restarting %s failed (%s): %w; restart it by hand", in.Profile.Unit, cmd, err)
	}
	in.say("restarted %s (%s): %s", in.Profile.Unit, why, cmd)
	return nil
}

func writeDiffOf(w io.Writer, c change) {
	if c.rec.Kind == kindBinary {
		switch {
		case !c.before.Exists:
			fmt.Fprintf(w, "new binary %s (%d bytes, sha256 %s)\n", c.rec.Path, len(c.after), hashOf(c.after))
		case c.remove:
			fmt.Fprintf(w, "remove binary %s\n", c.rec.Path)
		default:
			fmt.Fprintf(w, "replace binary %s (sha256 %s -> %s)\n", c.rec.Path, hashOf(c.before.Data), hashOf(c.after))
		}
		return
	}
	if c.rec.Kind == kindHelperConfig && !c.remove {
		// The helper's config is 0600: shown by hash, never by content.
		fmt.Fprintf(w, "write %s (0600, sha256 %s)\n", c.rec.Path, hashOf(c.after))
		return
	}
	writeDiff(w, c.rec.Path, c.before.Data, c.after, c.before.Exists, !c.remove)
}
