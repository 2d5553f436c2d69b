package meta

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

func TestHclogAdapter(t *testing.T) {
	var buf bytes.Buffer
	l := newHclog(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	r := l.Named("raft").With("node", "n1")
	r.Info("entering leader state", "term", 3)
	r.Warn("slow", "took", hclog.Fmt("%dms", 120))
	r.Error("failed", "error", "boom")
	r.Trace("hidden")
	r.Named("sub").Debug("nested")
	r.StandardLogger(&hclog.StandardLoggerOptions{ForceLevel: hclog.Warn}).Print("from std log")

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	want := []string{
		`level=DEBUG msg="entering leader state" logger=raft node=n1 term=3`,
		`level=WARN msg=slow logger=raft node=n1 took=120ms`,
		`level=ERROR msg=failed logger=raft node=n1 error=boom`,
		`level=DEBUG msg=nested logger=raft.sub node=n1`,
		`level=WARN msg="from std log" logger=raft node=n1`,
	}
	if len(lines) != len(want) {
		t.Fatalf("got %d lines:\n%s", len(lines), buf.String())
	}
	for i, w := range want {
		if !strings.HasSuffix(lines[i], w) {
			t.Errorf("line %d = %s, want …%s", i, lines[i], w)
		}
	}
	if !r.IsDebug() || r.IsTrace() || r.GetLevel() != hclog.Debug || r.Name() != "raft" {
		t.Error("levels or name")
	}
	if got := r.ImpliedArgs(); len(got) != 2 || got[0] != "node" {
		t.Errorf("ImpliedArgs = %v", got)
	}
	// A nil logger discards.
	newHclog(nil).Error("nothing")
}
