package dockerconfig

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// credHelpersKey is the member of docker's config.json that maps registry hosts to credential
// helpers. docker reads config.json with encoding/json, which matches member names without regard
// to case, so "credhelpers" or "CredHelpers" would be read as this member too.
const credHelpersKey = "credHelpers"

// action is what happens to one host's entry in credHelpers.
type action string

// Actions.
const (
	added     action = "added"
	changed   action = "changed"
	unchanged action = "unchanged"
)

// change is the plan for one host.
type change struct {
	Host   string
	Action action
	Old    string // the previous helper when Changed (raw JSON when it was not a string)
	New    string // the helper name
}

func (c change) String() string {
	switch c.Action {
	case added:
		return fmt.Sprintf("added %s -> %s", c.Host, c.New)
	case changed:
		return fmt.Sprintf("changed %s: %s -> %s", c.Host, c.Old, c.New)
	default:
		return fmt.Sprintf("unchanged %s", c.Host)
	}
}

// errInvalidDocument is wrapped by every refusal to edit a document: it is not JSON, its top level
// is not an object, or its credHelpers member is ambiguous or not an object.
var errInvalidDocument = errors.New("not a docker config file this tool can edit safely")

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// setCredHelpers returns doc with credHelpers[host] = helper for every host, and the plan.
//
// The edit works on the bytes: every byte outside the credHelpers member is kept as it was (members,
// their order, numbers such as 2.50, 1e3 or 12345678901234567890123, string escapes, whitespace),
// and inside credHelpers every entry for another host is kept as it was too. Only the values of
// the named hosts are replaced and missing hosts appended, indented like the members around them
// (a tab per level, as docker writes, where there is nothing to copy). When nothing changes, out is
// doc itself.
//
// doc may be empty or only whitespace: docker reads that as an empty config, and so does this.
// It refuses (errInvalidDocument) a document that is not valid JSON, that starts with a UTF-8 byte
// order mark (docker cannot read that either), whose top level is not an object, that has more than
// one credHelpers member (in any case spelling), whose credHelpers is neither an object nor null,
// or whose credHelpers names a host twice.
func setCredHelpers(doc []byte, hosts []string, helper string) (out []byte, changes []change, err error) {
	if bytes.HasPrefix(doc, utf8BOM) {
		return nil, nil, fmt.Errorf("%w: it starts with a UTF-8 byte order mark, which docker cannot read either; remove the first three bytes", errInvalidDocument)
	}
	if len(bytes.TrimLeft(doc, " \t\r\n")) == 0 {
		changes = make([]change, 0, len(hosts))
		for _, h := range hosts {
			changes = append(changes, change{Host: h, Action: added, New: helper})
		}
		return renderDocument(hosts, helper), changes, nil
	}
	if !json.Valid(doc) {
		// json.Unmarshal gives the position of the problem.
		var v any
		uerr := json.Unmarshal(doc, &v)
		if uerr == nil {
			uerr = errors.New("invalid JSON")
		}
		return nil, nil, fmt.Errorf("%w: it is not valid JSON (%v)", errInvalidDocument, uerr)
	}
	top, err := parseObject(doc, 0)
	if err != nil {
		if errors.Is(err, errNotObject) {
			return nil, nil, fmt.Errorf("%w: its top level is not a JSON object", errInvalidDocument)
		}
		return nil, nil, fmt.Errorf("%w: %v", errInvalidDocument, err)
	}

	var ch *member
	for i := range top.members {
		if strings.EqualFold(top.members[i].key, credHelpersKey) {
			if ch != nil {
				return nil, nil, fmt.Errorf("%w: it has more than one %q member (%q and %q; docker matches the name without regard to case); merge them by hand",
					errInvalidDocument, credHelpersKey, ch.key, top.members[i].key)
			}
			ch = &top.members[i]
		}
	}

	var e edits
	switch {
	case ch == nil:
		changes = allAdded(hosts, helper)
		if len(top.members) == 0 {
			// "{}" (or "{ }", "{\n}"): write it as docker would, keeping what is around it.
			e.add(top.open, top.close+1, bytes.TrimRight(renderDocument(hosts, helper), "\n"))
			break
		}
		last := top.members[len(top.members)-1]
		prefix, sep := doc[last.prefixStart:last.keyStart], doc[last.keyEnd:last.valStart]
		var b bytes.Buffer
		b.WriteByte(',')
		b.Write(afterComma(prefix, sep))
		b.Write(quote(credHelpersKey))
		b.Write(sep)
		b.Write(renderObject(prefix, sep, hosts, helper))
		e.add(last.valEnd, last.valEnd, b.Bytes())
	case bytes.Equal(doc[ch.valStart:ch.valEnd], []byte("null")):
		changes = allAdded(hosts, helper)
		e.add(ch.valStart, ch.valEnd, renderObject(doc[ch.prefixStart:ch.keyStart], doc[ch.keyEnd:ch.valStart], hosts, helper))
	default:
		inner, err := parseObject(doc[:ch.valEnd], ch.valStart)
		if err != nil {
			if errors.Is(err, errNotObject) {
				return nil, nil, fmt.Errorf("%w: its %q member is not an object (it maps registry hosts to helper names)", errInvalidDocument, ch.key)
			}
			return nil, nil, fmt.Errorf("%w: %v", errInvalidDocument, err)
		}
		byKey := make(map[string]*member, len(inner.members))
		for i := range inner.members {
			m := &inner.members[i]
			if byKey[m.key] != nil {
				return nil, nil, fmt.Errorf("%w: %q names %q twice; remove one of the entries by hand", errInvalidDocument, ch.key, m.key)
			}
			byKey[m.key] = m
		}
		var missing []string
		for _, h := range hosts {
			m := byKey[h]
			if m == nil {
				missing = append(missing, h)
				changes = append(changes, change{Host: h, Action: added, New: helper})
				continue
			}
			raw := doc[m.valStart:m.valEnd]
			var old string
			if json.Unmarshal(raw, &old) != nil {
				old = string(raw) // not a string: show it as written
			} else if old == helper {
				changes = append(changes, change{Host: h, Action: unchanged, Old: old, New: helper})
				continue
			}
			changes = append(changes, change{Host: h, Action: changed, Old: old, New: helper})
			e.add(m.valStart, m.valEnd, quote(helper))
		}
		if len(missing) == 0 {
			break
		}
		if len(inner.members) == 0 {
			e.add(inner.open, inner.close+1, renderObject(doc[ch.prefixStart:ch.keyStart], doc[ch.keyEnd:ch.valStart], missing, helper))
			break
		}
		last := inner.members[len(inner.members)-1]
		prefix, sep := doc[last.prefixStart:last.keyStart], doc[last.keyEnd:last.valStart]
		var b bytes.Buffer
		for _, h := range missing {
			b.WriteByte(',')
			b.Write(afterComma(prefix, sep))
			b.Write(quote(h))
			b.Write(sep)
			b.Write(quote(helper))
		}
		e.add(last.valEnd, last.valEnd, b.Bytes())
	}
	if len(e) == 0 {
		return doc, changes, nil
	}
	return e.apply(doc), changes, nil
}

// credHelpersRaw is the raw value of doc's credHelpers member, nil if none (or doc is not an object).
func credHelpersRaw(doc []byte) []byte {
	top, err := parseObject(doc, 0)
	if err != nil {
		return nil
	}
	for _, m := range top.members {
		if strings.EqualFold(m.key, credHelpersKey) {
			return doc[m.valStart:m.valEnd]
		}
	}
	return nil
}

func allAdded(hosts []string, helper string) []change {
	c := make([]change, 0, len(hosts))
	for _, h := range hosts {
		c = append(c, change{Host: h, Action: added, New: helper})
	}
	return c
}

// afterComma is the whitespace to put after a new ',' when copying a member whose leading whitespace
// is prefix: prefix itself, except that {"a": 1} (nothing after '{' but a space after ':') gets a
// space, as in {"a": 1, "b": 2}.
func afterComma(prefix, sep []byte) []byte {
	if len(prefix) == 0 && bytes.HasSuffix(sep, []byte(" ")) {
		return []byte(" ")
	}
	return prefix
}

// renderDocument is a new config file as docker writes one (tab indent), with a final newline.
func renderDocument(hosts []string, helper string) []byte {
	var b bytes.Buffer
	b.WriteString("{\n\t")
	b.Write(quote(credHelpersKey))
	b.WriteString(": ")
	b.Write(renderObject([]byte("\n\t"), []byte(": "), hosts, helper))
	b.WriteString("\n}\n")
	return b.Bytes()
}

// renderObject renders {"host": "helper", ...} as the value of a member whose leading whitespace
// (after the '{' or ',' before its key) is ownerPrefix and whose key-value separator is sep. When
// ownerPrefix breaks the line, the new members go one level deeper, the indent unit being the
// owner's own indent (a tab when the owner is not indented); otherwise the object stays on one
// line, spaced like the owner.
func renderObject(ownerPrefix, sep []byte, hosts []string, helper string) []byte {
	var open, closing []byte
	if i := bytes.LastIndexByte(ownerPrefix, '\n'); i >= 0 {
		nl := "\n"
		if i > 0 && ownerPrefix[i-1] == '\r' {
			nl = "\r\n"
		}
		indent := ownerPrefix[i+1:]
		unit := indent
		if len(unit) == 0 {
			unit = []byte("\t")
		}
		open = append(append([]byte(nl), indent...), unit...)
		closing = append([]byte(nl), indent...)
	} else {
		open, closing = ownerPrefix, ownerPrefix
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for i, h := range hosts {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(open)
		b.Write(quote(h))
		b.Write(sep)
		b.Write(quote(helper))
	}
	b.Write(closing)
	b.WriteByte('}')
	return b.Bytes()
}

func quote(s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return bytes.TrimRight(b.Bytes(), "\n")
}

// member is one "key": value of an object, as offsets into the document.
type member struct {
	key              string // decoded
	prefixStart      int    // just after the '{' or ',' before the key: the start of its leading whitespace
	keyStart, keyEnd int    // the key's quotes included
	valStart, valEnd int
}

type object struct {
	open, close int // offsets of '{' and '}'
	members     []member
}

var errNotObject = errors.New("not an object")

// parseObject reads the object that starts (after whitespace) at doc[start:], whose end is the end
// of doc or before. doc must be valid JSON from start on (the caller checked the document).
func parseObject(doc []byte, start int) (object, error) {
	var o object
	dec := json.NewDecoder(bytes.NewReader(doc[start:]))
	abs := func() int { return start + int(dec.InputOffset()) }
	tok, err := dec.Token()
	if err != nil {
		return o, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return o, errNotObject
	}
	o.open = abs() - 1
	// Offsets are taken before More, which moves the decoder past whitespace.
	prev := abs() // after '{' or after the previous value
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return o, err
		}
		key, ok := tok.(string)
		if !ok {
			return o, fmt.Errorf("unexpected %v where a member name should be", tok)
		}
		m := member{key: key, keyEnd: abs()}
		m.prefixStart = prev
		if i := skipSpace(doc, prev); doc[i] == ',' {
			m.prefixStart = i + 1
		}
		m.keyStart = skipSpace(doc, m.prefixStart)
		if doc[m.keyStart] != '"' || doc[m.keyEnd-1] != '"' {
			return o, fmt.Errorf("lost track of member %q at offset %d", key, m.keyStart)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return o, err
		}
		m.valEnd = abs()
		m.valStart = m.valEnd - len(raw)
		if m.valStart < m.keyEnd || !bytes.Equal(doc[m.valStart:m.valEnd], raw) ||
			!bytes.Equal(bytes.Trim(doc[m.keyEnd:m.valStart], " \t\r\n"), []byte(":")) {
			return o, fmt.Errorf("lost track of the value of member %q at offset %d", key, m.keyEnd)
		}
		o.members = append(o.members, m)
		prev = m.valEnd
	}
	tok, err = dec.Token()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return o, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '}' {
		return o, fmt.Errorf("unexpected %v at the end of an object", tok)
	}
	o.close = abs() - 1
	if doc[o.close] != '}' {
		return o, fmt.Errorf("lost track of the end of an object at offset %d", o.close)
	}
	return o, nil
}

func skipSpace(doc []byte, i int) int {
	for i < len(doc) && (doc[i] == ' ' || doc[i] == '\t' || doc[i] == '\r' || doc[i] == '\n') {
		i++
	}
	return i
}

// edits are non-overlapping replacements of byte ranges; apply orders them by offset.
type edits []edit

type edit struct {
	start, end int
	text       []byte
}

func (e *edits) add(start, end int, text []byte) { *e = append(*e, edit{start, end, text}) }

func (e edits) apply(doc []byte) []byte {
	sort.SliceStable(e, func(i, j int) bool { return e[i].start < e[j].start })
	var b bytes.Buffer
	pos := 0
	for _, x := range e {
		b.Write(doc[pos:x.start])
		b.Write(x.text)
		pos = x.end
	}
	b.Write(doc[pos:])
	return b.Bytes()
}
