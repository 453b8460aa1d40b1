package sts

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
	"unicode"
)

// An External profile of the Alibaba Cloud CLI names a command (process_command) whose standard
// output is a profile in JSON: mode AK, StsToken or RamRoleArn with their fields, as the CLI reads
// it back into the profile, plus credentials-go's `expiration` (UTC, 2006-01-02T15:04:05Z). The
// helper runs it itself: split into words like a shell without expansions (no shell is started),
// under the command's deadline (at most externalTimeout), with no input, its standard output
// bounded and its standard error discarded. Neither is ever printed, logged or put in an error
// (they hold the AccessKey secret), and nothing is written back to the CLI config: credentials-go
// printed both streams on a parse error and rewrote the whole file after every fetch.

// externalTimeout is credentials-go's and the CLI's limit for the command.
const externalTimeout = 60 * time.Second

// externalOutputLimit bounds the command's standard output: the profile is a few hundred bytes.
const externalOutputLimit = 64 << 10

// externalOutput is what the command prints.
type externalOutput struct {
	Mode            string `json:"mode"`
	AccessKeyID     string `json:"access_key_id"`
	AccessKeySecret string `json:"access_key_secret"`
	SecurityToken   string `json:"sts_token"`
	RoleArn         string `json:"ram_role_arn"`
	RoleSessionName string `json:"ram_session_name"`
	DurationSeconds int    `json:"expired_seconds"`
	ExternalID      string `json:"external_id"`
	Expiration      string `json:"expiration"`
}

// external is the source of an External profile.
type external struct {
	argv  []string
	label string
	o     ChainOptions
}

// newExternal splits command; a command that cannot be split is an error saying so (never the
// command itself, which may carry a secret in an argument).
func newExternal(command, label string, o ChainOptions) (*external, error) {
	argv, err := splitCommand(command)
	if err != nil {
		return nil, err
	}
	return &external{argv: argv, label: label, o: o}, nil
}

// Credentials runs the command and turns its output into credentials (a RamRoleArn output is
// assumed through the helper's STS client).
func (e *external) Credentials(ctx context.Context) (Credentials, error) {
	out, err := e.run(ctx)
	if err != nil {
		return Credentials{}, err
	}
	doc, err := parseExternalOutput(out)
	if err != nil {
		return Credentials{}, err
	}
	cr := Credentials{AccessKeyID: doc.AccessKeyID, AccessKeySecret: doc.AccessKeySecret, SecurityToken: doc.SecurityToken, Source: e.label}
	if doc.Expiration != "" {
		t, err := time.Parse("2006-01-02T15:04:05Z", doc.Expiration)
		if err != nil {
			return Credentials{}, fmt.Errorf("process_command printed an expiration that is not a UTC time like 2006-01-02T15:04:05Z")
		}
		cr.Expiration = t
	}
	if doc.Mode != "RamRoleArn" {
		return cr, nil
	}
	return Hop{RoleARN: doc.RoleArn, SessionName: doc.RoleSessionName, ExternalID: doc.ExternalID,
		Duration: time.Duration(doc.DurationSeconds) * time.Second}.Assume(Static(cr), e.o.STSEndpoint, e.o.Retry).Credentials(ctx)
}

// run runs the command and returns its standard output.
func (e *external) run(ctx context.Context) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, externalTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.argv[0], e.argv[1:]...)
	cmd.Stdin = nil
	cmd.Stderr = io.Discard
	out := &boundedBuffer{limit: externalOutputLimit}
	cmd.Stdout = out
	// A child that leaves a grandchild holding the pipes must not hold the helper past its
	// deadline.
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return nil, fmt.Errorf("process_command %s did not finish in time (%v)", e.argv[0], ctx.Err())
	case errors.As(err, &exit):
		return nil, fmt.Errorf("process_command %s failed (%s); run it yourself to see why", e.argv[0], exit.ProcessState)
	case errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("process_command: %s is not found (not on PATH, or no such file)", e.argv[0])
	case err != nil && !errors.Is(err, exec.ErrWaitDelay):
		return nil, fmt.Errorf("process_command %s could not be run: %v", e.argv[0], errors.Unwrap(err))
	case out.over:
		return nil, fmt.Errorf("process_command %s printed more than %d KiB; it should print one JSON profile", e.argv[0], externalOutputLimit>>10)
	}
	return out.Bytes(), nil
}

// parseExternalOutput reads the command's output as the CLI does (a profile in JSON whose mode,
// if empty, follows from its fields), accepting the modes that carry credentials. Its errors
// never quote the output.
func parseExternalOutput(out []byte) (externalOutput, error) {
	var doc externalOutput
	dec := json.NewDecoder(bytes.NewReader(out))
	if err := dec.Decode(&doc); err != nil || dec.More() {
		where := "it"
		if i := bytes.IndexByte(bytes.TrimSpace(out), '{'); i > 0 {
			where = fmt.Sprintf("it printed %d bytes before the JSON (a log line? it must go to standard error), so the output", i)
		}
		return doc, fmt.Errorf("process_command's output is not one JSON profile: %s was not read (the output is not shown: it holds secrets)", where)
	}
	if doc.Mode == "" {
		switch {
		case doc.SecurityToken != "":
			doc.Mode = "StsToken"
		case doc.RoleArn != "":
			doc.Mode = "RamRoleArn"
		default:
			doc.Mode = "AK"
		}
	}
	switch doc.Mode {
	case "AK", "StsToken", "RamRoleArn":
	default:
		return doc, fmt.Errorf("process_command printed mode %q; docker-credential-acr reads AK, StsToken and RamRoleArn from it", doc.Mode)
	}
	switch {
	case doc.AccessKeyID == "" || doc.AccessKeySecret == "":
		return doc, errors.New("process_command printed no access_key_id or no access_key_secret")
	case doc.Mode == "StsToken" && doc.SecurityToken == "":
		return doc, errors.New("process_command printed mode StsToken without sts_token")
	case doc.Mode == "RamRoleArn" && doc.RoleArn == "":
		return doc, errors.New("process_command printed mode RamRoleArn without ram_role_arn")
	}
	return doc, nil
}

// boundedBuffer keeps the first limit bytes written and notes that more came.
type boundedBuffer struct {
	bytes.Buffer
	limit int
	over  bool
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	if room := b.limit - b.Len(); len(p) > room {
		b.over = true
		if room > 0 {
			b.Buffer.Write(p[:room])
		}
		return len(p), nil
	}
	return b.Buffer.Write(p)
}

// splitCommand splits a command line into words as a POSIX shell would, without any expansion:
// blanks separate words, single quotes keep everything, double quotes keep everything but \" \\
// \$ and \`, a backslash outside quotes keeps the next character. An unclosed quote is an error.
func splitCommand(s string) ([]string, error) {
	var (
		args             []string
		cur              strings.Builder
		inWord           bool
		inSingle, inDoub bool
	)
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case inSingle:
			if r == '\'' {
				inSingle = false
			} else {
				cur.WriteRune(r)
			}
		case inDoub:
			switch {
			case r == '"':
				inDoub = false
			case r == '\\' && i+1 < len(rs) && strings.ContainsRune("\"\\$`", rs[i+1]):
				i++
				cur.WriteRune(rs[i])
			case r == '\\' && i+1 < len(rs) && rs[i+1] == '\n':
				i++
			default:
				cur.WriteRune(r)
			}
		case r == '\'':
			inSingle, inWord = true, true
		case r == '"':
			inDoub, inWord = true, true
		case r == '\\' && i+1 < len(rs):
			i++
			if rs[i] != '\n' {
				cur.WriteRune(rs[i])
				inWord = true
			}
		case unicode.IsSpace(r):
			if inWord {
				args = append(args, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inSingle || inDoub {
		return nil, errors.New("process_command has an unclosed quote")
	}
	if inWord {
		args = append(args, cur.String())
	}
	if len(args) == 0 {
		return nil, errors.New("process_command is empty")
	}
	return args, nil
}
