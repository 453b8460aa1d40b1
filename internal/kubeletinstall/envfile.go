package kubeletinstall

import (
	"bytes"
	"fmt"
	"strings"
)

// The kubelet's flags in an environment file (/etc/default/kubelet and the like), as systemd's
// EnvironmentFile= reads it: NAME=value lines, the value optionally in double or single quotes;
// the unit passes $NAME, split at white space, on the kubelet's command line.

// envLine is one NAME=value line of data.
type envLine struct {
	start, end int    // the line's bytes, without its newline
	value      string // unquoted
	quote      byte   // '"', '\'' or 0
}

// findEnvVar returns the value of the last assignment of name in data.
func findEnvVar(data []byte, name string) (string, envLine, bool) {
	var found envLine
	ok := false
	for start := 0; start < len(data); {
		end := bytes.IndexByte(data[start:], '\n')
		if end < 0 {
			end = len(data)
		} else {
			end += start
		}
		line := strings.TrimSpace(string(data[start:end]))
		line = strings.TrimPrefix(line, "export ")
		if rest, isName := strings.CutPrefix(line, name+"="); isName {
			l := envLine{start: start, end: end, value: rest}
			if n := len(rest); n >= 2 && (rest[0] == '"' || rest[0] == '\'') && rest[n-1] == rest[0] {
				l.quote, l.value = rest[0], rest[1:n-1]
			}
			found, ok = l, true
		}
		start = end + 1
	}
	return found.value, found, ok
}

// addFlags returns data with the flags appended to name's value (a new line when name is not
// assigned), and the flags it added; flags already given (any value) are not added again.
func addFlags(data []byte, name string, flags []string) ([]byte, []string, error) {
	value, line, ok := findEnvVar(data, name)
	if strings.ContainsAny(value, "\"'\\") {
		// Quotes or escapes inside the value: systemd and a shell would read its words
		// differently, and so might this installer.
		return nil, nil, fmt.Errorf("%s has quotes or backslashes inside its value; add %s to it by hand", name, strings.Join(flags, " "))
	}
	words := strings.Fields(value)
	var added []string
	for _, f := range flags {
		flagName, _, _ := strings.Cut(f, "=")
		if _, has := flagValue(words, flagName); has {
			continue
		}
		added = append(added, f)
	}
	if len(added) == 0 {
		return data, nil, nil
	}
	for _, f := range added {
		if strings.ContainsAny(f, " \t\"'\\$") {
			return nil, nil, fmt.Errorf("%s: a path with spaces, quotes, backslashes or $ cannot be passed in %s; choose another path", f, name)
		}
	}
	newValue := strings.TrimSpace(strings.Join(append([]string{strings.TrimSpace(value)}, added...), " "))
	if !ok {
		var b bytes.Buffer
		b.Write(data)
		if len(data) > 0 && data[len(data)-1] != '\n' {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%s=\"%s\"\n", name, newValue)
		return b.Bytes(), added, nil
	}
	return replaceLine(data, line, name, newValue), added, nil
}

// removeFlags returns data with the flags (exactly as addFlags added them) taken out of name's
// value, and whether any was.
func removeFlags(data []byte, name string, flags []string) ([]byte, bool) {
	value, line, ok := findEnvVar(data, name)
	if !ok {
		return data, false
	}
	drop := map[string]bool{}
	for _, f := range flags {
		drop[f] = true
	}
	var kept []string
	removed := false
	for _, w := range strings.Fields(value) {
		if drop[w] {
			removed = true
			continue
		}
		kept = append(kept, w)
	}
	if !removed {
		return data, false
	}
	return replaceLine(data, line, name, strings.Join(kept, " ")), true
}

// replaceLine writes NAME=value in place of line, keeping its quotes (double quotes when it had
// none and the value has white space; systemd and a shell then read the same words).
func replaceLine(data []byte, line envLine, name, value string) []byte {
	q := line.quote
	if q == 0 && strings.ContainsAny(value, " \t") {
		q = '"'
	}
	prefix := ""
	if orig := string(data[line.start:line.end]); strings.HasPrefix(strings.TrimSpace(orig), "export ") {
		prefix = "export "
	}
	assignment := prefix + name + "=" + value
	if q != 0 {
		assignment = prefix + name + "=" + string(q) + value + string(q)
	}
	var b bytes.Buffer
	b.Write(data[:line.start])
	b.WriteString(assignment)
	b.Write(data[line.end:])
	return b.Bytes()
}
