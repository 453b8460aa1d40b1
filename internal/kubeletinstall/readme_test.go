package kubeletinstall

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The README's "Kubernetes in one command" is a contract: every installer flag it names exists,
// and every chart value it names is in the chart's values.yaml.

func readmeSection(t *testing.T, heading string) string {
	t.Helper()
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	i := strings.Index(text, "\n## "+heading+"\n")
	if i < 0 {
		t.Fatalf("README has no section %q", heading)
	}
	s := text[i+1:]
	if j := strings.Index(s[3:], "\n## "); j >= 0 {
		s = s[:j+3]
	}
	return s
}

func TestREADMEInstallerFlags(t *testing.T) {
	section := readmeSection(t, "Kubernetes in one command")
	var usage bytes.Buffer
	Run([]string{"-h"}, func(string) string { return "" }, Self{}, &usage, &usage)
	// Flags of other tools the section names.
	others := map[string]bool{"--namespace": true, "--set": true, "--values": true,
		"--image-credential-provider-config": true, "--image-credential-provider-bin-dir": true}
	// The table's controller.* rows name acr-credential-controller's flags: each must be one of
	// controller/main.go's, and they are taken out of the installer's check.
	mainGo, err := os.ReadFile("../../controller/main.go")
	if err != nil {
		t.Fatal(err)
	}
	controllerFlags := map[string]bool{}
	for _, m := range regexp.MustCompile(`fs\.\w+Var\(&[\w.]+, "([a-z-]+)"`).FindAllStringSubmatch(string(mainGo), -1) {
		controllerFlags["--"+m[1]] = true
	}
	var installerText []string
	for _, line := range strings.Split(section, "\n") {
		if !strings.HasPrefix(line, "| `controller.") {
			installerText = append(installerText, line)
			continue
		}
		for _, m := range regexp.MustCompile("`(--[a-z-]+)").FindAllStringSubmatch(line, -1) {
			if !controllerFlags[m[1]] {
				t.Errorf("the README's controller values name %s, which acr-credential-controller does not take", m[1])
			}
		}
	}
	if len(controllerFlags) < 10 {
		t.Errorf("only %d flags found in controller/main.go: the parser or the file changed", len(controllerFlags))
	}
	section = strings.Join(installerText, "\n")
	seen := 0
	for _, m := range regexp.MustCompile("`(--[a-z-]+)").FindAllStringSubmatch(section, -1) {
		f := m[1]
		if others[f] {
			continue
		}
		seen++
		if !strings.Contains(usage.String(), "  -"+f[2:]+" ") && !strings.Contains(usage.String(), "  -"+f[2:]+"\n") {
			t.Errorf("the README names %s, which install-kubelet-plugin does not take", f)
		}
	}
	if seen < 10 {
		t.Errorf("only %d installer flags found in the README section: the parser or the section changed", seen)
	}
}

func TestREADMEChartValues(t *testing.T) {
	section := readmeSection(t, "Kubernetes in one command")
	data, err := os.ReadFile("../../deploy/helm/docker-credential-acr/values.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var values map[string]any
	if err := yaml.Unmarshal(data, &values); err != nil {
		t.Fatal(err)
	}
	has := func(path string) bool {
		var cur any = values
		for _, k := range strings.Split(path, ".") {
			m, ok := cur.(map[string]any)
			if !ok {
				return false
			}
			if cur, ok = m[k]; !ok {
				return false
			}
		}
		return true
	}
	n := 0
	for _, line := range strings.Split(section, "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		first := strings.Split(line, "|")[1]
		parent := ""
		for _, m := range regexp.MustCompile("`([a-zA-Z.]+)`").FindAllStringSubmatch(first, -1) {
			name := m[1]
			if strings.HasPrefix(name, ".") {
				name = parent + name
			} else if i := strings.LastIndexByte(name, '.'); i > 0 {
				parent = name[:i]
			}
			if !strings.HasPrefix(name, "node.") && !strings.HasPrefix(name, "controller.") {
				continue
			}
			n++
			if !has(name) {
				t.Errorf("the README names the value %s, which values.yaml lacks", name)
			}
		}
	}
	if n < 20 {
		t.Errorf("only %d values found in the README's table: the parser or the table changed", n)
	}
	// Every value of the controller part is in the table (the parity with controller/deploy
	// adds values; each says what it does).
	for k := range values["controller"].(map[string]any) {
		if !strings.Contains(section, "`controller."+k+"`") && !strings.Contains(section, "`controller."+k+".") {
			t.Errorf("values.yaml has controller.%s, which the README's table does not document", k)
		}
	}
}
