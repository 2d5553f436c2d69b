package version

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestGet(t *testing.T) {
	info := func(main string, settings ...string) *debug.BuildInfo {
		bi := &debug.BuildInfo{GoVersion: "go1.99.1", Main: debug.Module{Path: "cairn", Version: main}}
		for i := 0; i+1 < len(settings); i += 2 {
			bi.Settings = append(bi.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
		}
		return bi
	}
	for _, tc := range []struct {
		name            string
		version, commit string
		bi              *debug.BuildInfo
		wantV, wantC    string
	}{
		{"ldflags win", "v1.2.0", "abc1234", info("(devel)", "vcs.revision", "0123456789abcdef0123", "vcs.modified", "true"), "v1.2.0", "abc1234"},
		{"checkout build", "", "", info("(devel)", "vcs.revision", "0123456789abcdef0123", "vcs.modified", "false"), "0123456789ab", "0123456789ab"},
		{"dirty checkout", "", "", info("(devel)", "vcs.revision", "0123456789abcdef0123", "vcs.modified", "true"), "0123456789ab-dirty", "0123456789ab-dirty"},
		{"go install @version", "", "", info("v1.3.0"), "v1.3.0", ""},
		{"nothing known", "", "", info("(devel)"), "devel", ""},
		{"no build info", "", "", nil, "devel", ""},
	} {
		got := get(tc.version, tc.commit, tc.bi)
		if got.Version != tc.wantV || got.Commit != tc.wantC {
			t.Errorf("%s: got version %q commit %q, want %q %q", tc.name, got.Version, got.Commit, tc.wantV, tc.wantC)
		}
		if tc.bi != nil && got.Go != "go1.99.1" {
			t.Errorf("%s: Go %q", tc.name, got.Go)
		}
		if s := got.String(); strings.Contains(s, "\n") || !strings.HasPrefix(s, tc.wantV+" (commit ") {
			t.Errorf("%s: String %q", tc.name, s)
		}
	}
}
