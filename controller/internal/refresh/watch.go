package refresh

import (
	"context"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// WatchConfig calls reload whenever the config file may have changed. It watches the directory,
// not the file: the kubelet updates a mounted ConfigMap by swapping the ..data symlink, which a
// watch on the file (the old inode) never sees. Events are coalesced for a moment, and a poll every
// minute catches what a lost event would miss.
func WatchConfig(ctx context.Context, path string, log *slog.Logger, reload func()) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	defer w.Close()
	if err := w.Add(filepath.Dir(path)); err != nil {
		return err
	}
	const settle = 200 * time.Millisecond
	var fire <-chan time.Time
	poll := time.NewTicker(time.Minute)
	defer poll.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if ev.Op&(fsnotify.Create|fsnotify.Write|fsnotify.Remove|fsnotify.Rename) != 0 {
				fire = time.After(settle)
			}
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			log.Warn("watching the config directory", "error", err)
			fire = time.After(settle)
		case <-fire:
			fire = nil
			reload()
		case <-poll.C:
			reload()
		}
	}
}
