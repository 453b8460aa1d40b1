package credhelper

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"

	"github.com/docker-credential-acr/docker-credential-acr/internal/cloudapi"
)

// NewLogger logs to w one plain line per record ("docker-credential-acr: warning: …"), at the
// level named by DOCKER_CREDENTIAL_ACR_LOG_LEVEL (debug, info, warn, error; default warn). Every
// line is scrubbed of secrets, whatever the level.
func NewLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	switch strings.ToLower(strings.TrimSpace(level)) {
	case "", "warn", "warning":
		l = slog.LevelWarn
	case "debug":
		l = slog.LevelDebug
	case "info":
		l = slog.LevelInfo
	case "error":
		l = slog.LevelError
	default:
		return slog.New(&lineHandler{w: w, level: slog.LevelWarn, mu: &sync.Mutex{}}),
			fmt.Errorf("DOCKER_CREDENTIAL_ACR_LOG_LEVEL=%q: want debug, info, warn or error", level)
	}
	return slog.New(&lineHandler{w: w, level: l, mu: &sync.Mutex{}}), nil
}

type lineHandler struct {
	w     io.Writer
	level slog.Level
	attrs []slog.Attr
	mu    *sync.Mutex
}

func (h *lineHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }

func (h *lineHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString("docker-credential-acr: ")
	switch {
	case r.Level >= slog.LevelError:
		b.WriteString("error: ")
	case r.Level >= slog.LevelWarn:
		b.WriteString("warning: ")
	case r.Level < slog.LevelInfo:
		b.WriteString("debug: ")
	}
	b.WriteString(r.Message)
	first := true
	add := func(a slog.Attr) bool {
		if first {
			b.WriteString(" (")
			first = false
		} else {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s=%v", a.Key, a.Value.Resolve())
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	if !first {
		b.WriteString(")")
	}
	line := strings.ReplaceAll(cloudapi.Scrub(b.String()), "\n", " ") + "\n"
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, line)
	return err
}

func (h *lineHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr{}, h.attrs...), as...)
	return &c
}

func (h *lineHandler) WithGroup(string) slog.Handler { return h }
