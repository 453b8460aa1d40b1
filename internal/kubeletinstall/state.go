package kubeletinstall

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

// The state record: what the installer changed on the node, so that --uninstall takes out exactly
// that. It lives under the root (the node's own disk, surviving the DaemonSet's pods), 0600 in a
// 0700 directory, with a copy of every file as it was before the installer first changed it.
const (
	stateDir  = "/var/lib/docker-credential-acr"
	stateFile = stateDir + "/install-state.json"
	backupDir = stateDir + "/install-backup"
)

// The kinds of file the installer changes.
const (
	kindBinary         = "binary"
	kindHelperConfig   = "helper-config"
	kindProviderConfig = "provider-config"
	kindKubeletFlags   = "kubelet-flags"
)

// State is the record.
type State struct {
	Profile string   `json:"profile"`
	Unit    string   `json:"unit"`
	Files   []Record `json:"files"`
	// Dirs are the directories the installer created for its record, outermost first.
	Dirs []string `json:"dirs,omitempty"`
}

// Record is one file the installer created or changed.
type Record struct {
	Path string `json:"path"`
	Kind string `json:"kind"`
	// Created: the file did not exist before; --uninstall removes it (when unchanged since).
	Created bool `json:"created,omitempty"`
	// Backup is the node path of a copy of the file before the installer first changed it, and
	// Mode its permissions; "" when the file was created or changed by someone else since
	// (then only the installer's part is taken out).
	Backup string `json:"backup,omitempty"`
	Mode   uint32 `json:"mode,omitempty"`
	// After is the SHA-256 of the content the installer last wrote.
	After string `json:"after"`
	// Flags (kubelet-flags) are the words the installer added to the variable Var.
	Flags []string `json:"flags,omitempty"`
	Var   string   `json:"var,omitempty"`
	// Provider (provider-config) is the name of the installer's entry.
	Provider string `json:"provider,omitempty"`
	// Dirs are the directories the installer created for the file, outermost first.
	Dirs []string `json:"dirs,omitempty"`
}

func (s *State) record(path string) *Record {
	for i := range s.Files {
		if s.Files[i].Path == path {
			return &s.Files[i]
		}
	}
	return nil
}

// loadState reads the record under root; a missing record is an empty State and false.
func loadState(root string) (*State, bool, error) {
	data, err := readNodeFile(root, stateFile)
	if errors.Is(err, os.ErrNotExist) {
		return &State{}, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	var s State
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, false, fmt.Errorf("%s: %v: the installer's record is damaged; restore it, or remove it after checking the files it lists by hand", stateFile, err)
	}
	return &s, true, nil
}

// ensureStateDir creates the record's directory (0700), noting the directories it created.
func ensureStateDir(root string, s *State) error {
	dirs, err := mkdirs(root, stateDir)
	s.Dirs = append(s.Dirs, dirs...)
	if err != nil {
		return err
	}
	return os.Chmod(filepath.Join(root, stateDir), 0o700)
}

func saveState(root string, s *State) error {
	if err := ensureStateDir(root, s); err != nil {
		return err
	}
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	_, err = writeAtomic(root, stateFile, append(data, '\n'), 0o600, 0, 0)
	return err
}

// backupPath is where the copy of path is kept.
func backupPath(path string) string { return backupDir + "/" + hashOf([]byte(path))[:32] }

func writeBackup(root string, s *State, path string, data []byte) (string, error) {
	if err := ensureStateDir(root, s); err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Join(root, backupDir), 0o700); err != nil {
		return "", err
	}
	b := backupPath(path)
	_, err := writeAtomic(root, b, data, 0o600, 0, 0)
	return b, err
}

// removeState removes the record, the copies and the directories created for them when empty.
func removeState(root string, s *State) error {
	if err := os.RemoveAll(filepath.Join(root, backupDir)); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(root, stateFile)); err != nil && !os.IsNotExist(err) {
		return err
	}
	// The directories created for the record and the files, when empty, deepest first.
	dirs := append([]string{stateDir}, s.Dirs...)
	for _, r := range s.Files {
		dirs = append(dirs, r.Dirs...)
	}
	slices.SortFunc(dirs, func(a, b string) int { return len(b) - len(a) })
	for _, d := range dirs {
		_ = os.Remove(filepath.Join(root, d))
	}
	return nil
}
