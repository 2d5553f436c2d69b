package cluster

import (
	"log/slog"
	"testing"
)

func TestParseLogLine(t *testing.T) {
	for _, tc := range []struct {
		line     string
		level    slog.Level
		lib, msg string
	}{
		{"[ERR] memberlist: Failed push/pull merge: EOF", slog.LevelError, "memberlist", "Failed push/pull merge: EOF"},
		{"[ERROR] memberlist: Failed to compress payload: x", slog.LevelError, "memberlist", "Failed to compress payload: x"},
		{"[WARN] serf: Failed to re-join any previously known node", slog.LevelWarn, "serf", "Failed to re-join any previously known node"},
		{"[INFO] serf: EventMemberJoin: n1 127.0.0.1", slog.LevelDebug, "serf", "EventMemberJoin: n1 127.0.0.1"},
		{"[DEBUG] memberlist: Stream connection from=127.0.0.1:1", slog.LevelDebug, "memberlist", "Stream connection from=127.0.0.1:1"},
		{"something else: entirely", slog.LevelDebug, "", "something else: entirely"},
	} {
		level, lib, msg := parseLogLine(tc.line)
		if level != tc.level || lib != tc.lib || msg != tc.msg {
			t.Errorf("%q: got %v %q %q, want %v %q %q", tc.line, level, lib, msg, tc.level, tc.lib, tc.msg)
		}
	}
}

func TestLogWriter(t *testing.T) {
	tl := newTestLog(t)
	var other string
	l := newSerfLogger(tl.logger(slog.LevelInfo), func(o string) { other = o })
	l.Printf("[ERR] serf: Node name conflicts with another node at %s:%d. Names must be unique! (Resolution enabled: %v)", "127.0.0.1", 7946, true)
	if other != "127.0.0.1:7946" {
		t.Errorf("conflict hook got %q", other)
	}
	if !tl.contains("level=ERROR") || !tl.contains("lib=serf") {
		t.Error("the conflict was not logged as a serf error")
	}
	l.Printf("[WARN] serf: Shutdown without a Leave")
	l.Printf("[INFO] serf: EventMemberJoin: n1 127.0.0.1")
	if tl.contains("Shutdown without") || tl.contains("EventMemberJoin") {
		t.Error("noise logged above Debug")
	}
}
