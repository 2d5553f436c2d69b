package meta

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"sync"

	"github.com/hashicorp/go-hclog"
)

// slogHclog adapts a *slog.Logger to hclog.Logger, the interface raft,
// raft's transports and snapshot store log through. Their
// records come out structured (key/value pairs become slog attributes).
// Raft is chatty at Info (every election, every snapshot), so hclog Info is
// logged at slog Debug; Warn and Error keep their level; Trace goes below
// Debug.
type slogHclog struct {
	base *slog.Logger // without name and implied args
	l    *slog.Logger // base with the "logger" name and the implied args
	name string
	args []any
}

var _ hclog.Logger = (*slogHclog)(nil)

// levelTrace is below slog.LevelDebug: slog has no trace level.
const levelTrace = slog.LevelDebug - 4

func newHclog(l *slog.Logger) *slogHclog {
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	return &slogHclog{base: l, l: l}
}

func (h *slogHclog) derive(name string, args []any) *slogHclog {
	l := h.base
	if name != "" {
		l = l.With("logger", name)
	}
	if len(args) > 0 {
		l = l.With(args...)
	}
	return &slogHclog{base: h.base, l: l, name: name, args: args}
}

func slogLevel(level hclog.Level) slog.Level {
	switch level {
	case hclog.Trace:
		return levelTrace
	case hclog.Warn:
		return slog.LevelWarn
	case hclog.Error:
		return slog.LevelError
	default: // Debug, Info (raft's info noise), NoLevel, Off
		return slog.LevelDebug
	}
}

// attrs turns hclog's key/value arguments into slog's, formatting hclog.Fmt
// values.
func attrs(args []any) []any {
	for i, a := range args {
		if f, ok := a.(hclog.Format); ok && len(f) > 0 {
			if s, ok := f[0].(string); ok {
				out := make([]any, len(args))
				copy(out, args)
				out[i] = fmt.Sprintf(s, f[1:]...)
				args = out
			}
		}
	}
	return args
}

func (h *slogHclog) Log(level hclog.Level, msg string, args ...any) {
	if level == hclog.Off {
		return
	}
	lvl := slogLevel(level)
	if !h.l.Enabled(context.Background(), lvl) {
		return
	}
	h.l.Log(context.Background(), lvl, msg, attrs(args)...)
}

func (h *slogHclog) Trace(msg string, args ...any) { h.Log(hclog.Trace, msg, args...) }
func (h *slogHclog) Debug(msg string, args ...any) { h.Log(hclog.Debug, msg, args...) }
func (h *slogHclog) Info(msg string, args ...any)  { h.Log(hclog.Info, msg, args...) }
func (h *slogHclog) Warn(msg string, args ...any)  { h.Log(hclog.Warn, msg, args...) }
func (h *slogHclog) Error(msg string, args ...any) { h.Log(hclog.Error, msg, args...) }

func (h *slogHclog) enabled(l slog.Level) bool { return h.l.Enabled(context.Background(), l) }

func (h *slogHclog) IsTrace() bool { return h.enabled(levelTrace) }
func (h *slogHclog) IsDebug() bool { return h.enabled(slog.LevelDebug) }
func (h *slogHclog) IsInfo() bool  { return h.enabled(slog.LevelDebug) }
func (h *slogHclog) IsWarn() bool  { return h.enabled(slog.LevelWarn) }
func (h *slogHclog) IsError() bool { return h.enabled(slog.LevelError) }

func (h *slogHclog) ImpliedArgs() []any { return h.args }

func (h *slogHclog) With(args ...any) hclog.Logger {
	return h.derive(h.name, append(append([]any(nil), h.args...), attrs(args)...))
}

func (h *slogHclog) Name() string { return h.name }

func (h *slogHclog) Named(name string) hclog.Logger {
	if h.name != "" {
		name = h.name + "." + name
	}
	return h.ResetNamed(name)
}

// ResetNamed names the logger (the "logger" attribute), keeping the implied
// args.
func (h *slogHclog) ResetNamed(name string) hclog.Logger { return h.derive(name, h.args) }

// SetLevel does nothing: the slog handler decides.
func (h *slogHclog) SetLevel(hclog.Level) {}

func (h *slogHclog) GetLevel() hclog.Level {
	switch {
	case h.IsTrace():
		return hclog.Trace
	case h.IsDebug():
		return hclog.Debug
	case h.IsWarn():
		return hclog.Warn
	case h.IsError():
		return hclog.Error
	}
	return hclog.Off
}

func (h *slogHclog) StandardLogger(opts *hclog.StandardLoggerOptions) *log.Logger {
	return log.New(h.StandardWriter(opts), "", 0)
}

func (h *slogHclog) StandardWriter(opts *hclog.StandardLoggerOptions) io.Writer {
	level := hclog.Info
	if opts != nil && opts.ForceLevel != hclog.NoLevel {
		level = opts.ForceLevel
	}
	return &lineWriter{h: h, level: level}
}

// lineWriter logs every line written to it as one record.
type lineWriter struct {
	h     *slogHclog
	level hclog.Level
	mu    sync.Mutex
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, line := range bytes.Split(bytes.TrimRight(p, "\n"), []byte("\n")) {
		if len(line) > 0 {
			w.h.Log(w.level, string(line))
		}
	}
	return len(p), nil
}
