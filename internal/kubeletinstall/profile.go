// Package kubeletinstall installs docker-credential-acr as the kubelet's image credential
// provider on a node (`docker-credential-acr install-kubelet-plugin`): the binary in the plugin
// directory, its entry in the CredentialProviderConfig, the two kubelet flags, a kubelet restart
// when the kubelet's view changed, and a state record under the node's root from which
// --uninstall takes out exactly what was added.
package kubeletinstall

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The profiles: where each kind of node keeps the kubelet's flags, its credential provider config
// and plugin directory, and which systemd unit runs the kubelet.
const (
	ProfileKubeadm = "kubeadm"
	ProfileK3s     = "k3s"
	ProfileRKE2    = "rke2"
	ProfileGeneric = "generic"
	ProfileAuto    = "auto"
)

// Paths of the node (absolute in the node's filesystem; the installer joins them to --root).
const (
	// kubeadm keeps its own flags in kubeadm-flags.env (rewritten by kubeadm upgrade: read, never
	// written) and the administrator's in KUBELET_EXTRA_ARGS of /etc/default/kubelet (Debian,
	// Ubuntu) or /etc/sysconfig/kubelet (RHEL family), both read by 10-kubeadm.conf.
	kubeadmFlagsEnv     = "/var/lib/kubelet/kubeadm-flags.env"
	kubeadmDefaultFlags = "/etc/default/kubelet"
	kubeadmSysconfig    = "/etc/sysconfig/kubelet"
	// kubeadm has no default provider paths: these are the installer's. The plugin directory is
	// under /var/lib/kubelet, writable on every node the kubelet runs on (/usr is read-only on
	// Flatcar and other image-based systems).
	kubeadmConfigFile = "/etc/kubernetes/image-credential-provider-config.yaml"
	kubeadmBinDir     = "/var/lib/kubelet/credential-provider/bin"

	// k3s and RKE2 (which takes the agent flags from k3s's pkg/cli/cmds) pass the kubelet
	// --image-credential-provider-bin-dir and --image-credential-provider-config by themselves
	// when both of these exist (k3s pkg/daemons/agent: ImageCredProvAvailable), so on these nodes
	// no flag is edited: the installer fills the defaults, or the paths the node's config files
	// set (image-credential-provider-config, image-credential-provider-bin-dir, kubelet-arg).
	rancherConfigFile = "/var/lib/rancher/credentialprovider/config.yaml"
	rancherBinDir     = "/var/lib/rancher/credentialprovider/bin"

	flagConfig = "--image-credential-provider-config"
	flagBinDir = "--image-credential-provider-bin-dir"
)

// Profile is where one kind of node keeps what the installer changes.
type Profile struct {
	Name string
	// ConfigFile and BinDir: the provider config and the plugin directory, from the kubelet's
	// current flags when it has them, else the profile's defaults.
	ConfigFile, BinDir string
	// FlagsFile is the environment file whose FlagsVar the installer adds the flags to; "" when
	// the distribution passes them itself (k3s, RKE2).
	FlagsFile, FlagsVar string
	// HasConfigFlag, HasBinDirFlag: the kubelet is already given the flag (with ConfigFile,
	// BinDir as its value); the installer then adds nothing for it.
	HasConfigFlag, HasBinDirFlag bool
	// Unit is the systemd unit that runs the kubelet.
	Unit string
	// Why says how the profile was chosen (auto) and where the paths come from.
	Why []string
}

// GenericPaths are the paths --profile generic is given.
type GenericPaths struct {
	ConfigFile, BinDir, FlagsFile, FlagsVar, Unit string
}

// ResolveProfile reads the node under root and returns the profile name (auto: detected) with
// its paths.
func ResolveProfile(root, name string, g GenericPaths) (*Profile, error) {
	if name == "" || name == ProfileAuto {
		detected, why, err := detect(root)
		if err != nil {
			return nil, err
		}
		p, err := ResolveProfile(root, detected, g)
		if err != nil {
			return nil, err
		}
		p.Why = append([]string{why}, p.Why...)
		return p, nil
	}
	switch name {
	case ProfileKubeadm:
		return kubeadmProfile(root)
	case ProfileK3s, ProfileRKE2:
		return rancherProfile(root, name)
	case ProfileGeneric:
		return genericProfile(root, g)
	}
	return nil, fmt.Errorf("--profile %q: want kubeadm, k3s, rke2, generic or auto", name)
}

// detect tells the profiles apart from what is on the node.
func detect(root string) (string, string, error) {
	var found []string
	var why []string
	for _, c := range []struct{ profile, path string }{
		{ProfileK3s, "/etc/rancher/k3s"}, {ProfileK3s, "/var/lib/rancher/k3s"},
		{ProfileRKE2, "/etc/rancher/rke2"}, {ProfileRKE2, "/var/lib/rancher/rke2"},
		{ProfileKubeadm, kubeadmFlagsEnv}, {ProfileKubeadm, "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf"},
		{ProfileKubeadm, "/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf"},
	} {
		if exists(filepath.Join(root, c.path)) {
			if len(found) == 0 || found[len(found)-1] != c.profile {
				found = append(found, c.profile)
				why = append(why, c.path)
			}
		}
	}
	found, why = uniq(found, why)
	switch len(found) {
	case 1:
		return found[0], fmt.Sprintf("profile %s (auto: found %s)", found[0], why[0]), nil
	case 0:
		return "", "", fmt.Errorf("--profile auto: no k3s (/etc/rancher/k3s), RKE2 (/etc/rancher/rke2) or kubeadm (%s) node under %s; "+
			"name the profile with --profile, or use --profile generic with --config-file, --bin-dir and --kubelet-flags-file", kubeadmFlagsEnv, root)
	}
	return "", "", fmt.Errorf("--profile auto: the node under %s looks like %s (%s); name the profile with --profile",
		root, strings.Join(found, " and "), strings.Join(why, ", "))
}

func uniq(names, why []string) ([]string, []string) {
	var n, w []string
	seen := map[string]bool{}
	for i, x := range names {
		if !seen[x] {
			seen[x] = true
			n, w = append(n, x), append(w, why[i])
		}
	}
	return n, w
}

func kubeadmProfile(root string) (*Profile, error) {
	p := &Profile{Name: ProfileKubeadm, ConfigFile: kubeadmConfigFile, BinDir: kubeadmBinDir, FlagsVar: "KUBELET_EXTRA_ARGS", Unit: "kubelet"}
	switch {
	case exists(filepath.Join(root, kubeadmDefaultFlags)):
		p.FlagsFile = kubeadmDefaultFlags
	case exists(filepath.Join(root, kubeadmSysconfig)), isDir(filepath.Join(root, "/etc/sysconfig")):
		p.FlagsFile = kubeadmSysconfig
	default:
		p.FlagsFile = kubeadmDefaultFlags
	}
	// KUBELET_EXTRA_ARGS comes after KUBELET_KUBEADM_ARGS on the kubelet's command line: its
	// value wins.
	sources := []struct{ file, variable string }{{kubeadmFlagsEnv, "KUBELET_KUBEADM_ARGS"}, {p.FlagsFile, p.FlagsVar}}
	if err := p.adoptFlagsFromEnvFiles(root, sources); err != nil {
		return nil, err
	}
	return p, nil
}

func genericProfile(root string, g GenericPaths) (*Profile, error) {
	if g.ConfigFile == "" || g.BinDir == "" || g.FlagsFile == "" {
		return nil, errors.New("--profile generic needs --config-file, --bin-dir and --kubelet-flags-file (the environment file whose KUBELET_EXTRA_ARGS, or --kubelet-flags-var, the kubelet's unit passes on its command line)")
	}
	for _, p := range []string{g.ConfigFile, g.BinDir, g.FlagsFile} {
		if !filepath.IsAbs(p) {
			return nil, fmt.Errorf("%s: want an absolute path on the node", p)
		}
	}
	p := &Profile{Name: ProfileGeneric, ConfigFile: g.ConfigFile, BinDir: g.BinDir, FlagsFile: g.FlagsFile, FlagsVar: g.FlagsVar, Unit: g.Unit}
	if p.FlagsVar == "" {
		p.FlagsVar = "KUBELET_EXTRA_ARGS"
	}
	if p.Unit == "" {
		p.Unit = "kubelet"
	}
	if err := p.adoptFlagsFromEnvFiles(root, []struct{ file, variable string }{{p.FlagsFile, p.FlagsVar}}); err != nil {
		return nil, err
	}
	return p, nil
}

// adoptFlagsFromEnvFiles takes the kubelet's current provider flags from the environment files
// (later ones win, as on the kubelet's command line).
func (p *Profile) adoptFlagsFromEnvFiles(root string, sources []struct{ file, variable string }) error {
	for _, s := range sources {
		data, err := readNodeFile(root, s.file)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			return err
		}
		value, _, ok := findEnvVar(data, s.variable)
		if !ok {
			continue
		}
		words := strings.Fields(value)
		if v, ok := flagValue(words, flagConfig); ok {
			p.ConfigFile, p.HasConfigFlag = v, true
			p.Why = append(p.Why, fmt.Sprintf("the kubelet already has %s=%s (%s %s): merging into it", flagConfig, v, s.file, s.variable))
		}
		if v, ok := flagValue(words, flagBinDir); ok {
			p.BinDir, p.HasBinDirFlag = v, true
			p.Why = append(p.Why, fmt.Sprintf("the kubelet already has %s=%s (%s %s)", flagBinDir, v, s.file, s.variable))
		}
	}
	return nil
}

// flagValue is the value of the last --name=value or --name value in words.
func flagValue(words []string, name string) (string, bool) {
	v, found := "", false
	for i, w := range words {
		for _, n := range []string{name, name[1:]} { // the kubelet accepts -flag too
			if strings.HasPrefix(w, n+"=") {
				v, found = w[len(n)+1:], true
			} else if w == n && i+1 < len(words) {
				v, found = words[i+1], true
			}
		}
	}
	return strings.Trim(v, `"'`), found
}

func exists(p string) bool { _, err := os.Lstat(p); return err == nil }

func isDir(p string) bool { fi, err := os.Stat(p); return err == nil && fi.IsDir() }
