package cluster

import (
	"context"
	"log"
	"log/slog"
	"strings"
)

// logWriter turns the lines serf and memberlist print through their
// *log.Logger ("[WARN] memberlist: message") into slog records. The
// *log.Logger has no prefix or flags, and writes each line in one Write.
type logWriter struct {
	log *slog.Logger
	// onConflict, if set, is called with the other node's address when
	// serf reports that this node's name is taken. Serf offers no other
	// hook: it installs its own memberlist conflict delegate.
	onConflict func(other string)
}

func newSerfLogger(l *slog.Logger, onConflict func(string)) *log.Logger {
	return log.New(&logWriter{log: l, onConflict: onConflict}, "", 0)
}

// The serf error that says this node's name is already taken.
const (
	conflictPrefix = "Node name conflicts with another node at "
	conflictSuffix = ". Names must be unique!"
)

func (w *logWriter) Write(p []byte) (int, error) {
	level, lib, msg := parseLogLine(strings.TrimSpace(string(p)))
	if lib == "serf" && w.onConflict != nil {
		if rest, ok := strings.CutPrefix(msg, conflictPrefix); ok {
			other, _, _ := strings.Cut(rest, conflictSuffix)
			w.onConflict(other)
		}
	}
	if lib == "serf" && msg == "Shutdown without a Leave" {
		// Close without Leave is a legitimate way to stop (the others
		// see a failure), not something to warn about.
		level = slog.LevelDebug
	}
	if ctx := context.Background(); w.log.Enabled(ctx, level) {
		w.log.Log(ctx, level, msg, "lib", lib)
	}
	return len(p), nil
}

// parseLogLine splits "[LEVEL] lib: message". Errors map to Error,
// warnings to Warn, and INFO, DEBUG or anything unrecognised to Debug:
// what serf says at INFO (a member joined...) the Cluster logs itself, in
// structured form.
func parseLogLine(line string) (level slog.Level, lib, msg string) {
	level, msg = slog.LevelDebug, line
	if rest, ok := strings.CutPrefix(msg, "["); ok {
		if tag, m, ok := strings.Cut(rest, "] "); ok {
			msg = m
			switch tag {
			case "ERR", "ERROR":
				level = slog.LevelError
			case "WARN", "WARNING":
				level = slog.LevelWarn
			}
		}
	}
	if l, m, ok := strings.Cut(msg, ": "); ok && (l == "serf" || l == "memberlist") {
		lib, msg = l, m
	}
	return level, lib, msg
}
