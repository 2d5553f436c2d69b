// Package version says which build of Cairn a binary is: the version and
// commit the Makefile stamps in with -ldflags, or what the Go toolchain
// recorded in the binary when it was built without them (go build, go
// install).
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Set by the Makefile's -ldflags ("-X cairn/internal/version.version=..."):
// `git describe --tags --always --dirty` and the commit's short hash.
// Empty in a plain go build, where Get falls back on the build info.
var (
	version string
	commit  string
)

// Info is a build of Cairn.
type Info struct {
	// Version is the release (v1.2.0), or git describe's name of the
	// commit it was built from (v1.2.0-3-gabc1234, abc1234-dirty), or
	// "devel" when neither the Makefile nor the Go toolchain said.
	Version string `json:"version"`
	// Commit is the commit it was built from, "" when unknown; with
	// "-dirty" when the tree had changes.
	Commit string `json:"commit,omitempty"`
	// Go is the Go version it was built with; Platform its GOOS/GOARCH.
	Go       string `json:"go"`
	Platform string `json:"platform"`
}

// Get returns this binary's build.
func Get() Info {
	bi, _ := debug.ReadBuildInfo()
	return get(version, commit, bi)
}

func get(version, commit string, bi *debug.BuildInfo) Info {
	i := Info{Version: version, Commit: commit, Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi == nil {
		if i.Version == "" {
			i.Version = "devel"
		}
		return i
	}
	if bi.GoVersion != "" {
		i.Go = bi.GoVersion
	}
	if i.Commit == "" {
		var rev string
		var dirty bool
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if rev != "" && dirty {
			rev += "-dirty"
		}
		i.Commit = rev
	}
	if i.Version == "" {
		// go install cairn/cmd/storaged@v1.2.0 records the module version;
		// a build in a checkout records "(devel)" or a pseudo-version.
		switch v := bi.Main.Version; {
		case v != "" && v != "(devel)":
			i.Version = v
		case i.Commit != "":
			i.Version = i.Commit
		default:
			i.Version = "devel"
		}
	}
	return i
}

// String is the one line `storaged --version` prints after its name:
// "v1.2.0 (commit abc1234, go1.26.0, linux/amd64)".
func (i Info) String() string {
	c := i.Commit
	if c == "" {
		c = "unknown"
	}
	return fmt.Sprintf("%s (commit %s, %s, %s)", i.Version, c, i.Go, i.Platform)
}
