package compare

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"cairn/bench/server"
)

// The MinIO server the comparison builds. MinIO's releases are RELEASE.*
// tags, which Go modules cannot name, so it is pinned by pseudo-version:
// the newest commit of github.com/minio/minio the module proxy served in
// November 2026 (7aac2a2c5b7c, committed 2026-02-12). Its go.mod has no
// replace directives, so `go install module@version` builds it as its own
// go.mod and go.sum pin it.
const (
	MinIOModule   = "github.com/minio/minio"
	MinIOVersion  = "v0.0.0-20260212201848-7aac2a2c5b7c"
	minioCommitID = "7aac2a2c5b7c"
)

// Binary is a server binary the comparison runs.
type Binary struct {
	Path    string  `json:"path"`
	Version string  `json:"version"`
	Cached  bool    `json:"cached"`        // found already built, not built now
	Build   float64 `json:"build_seconds"` // how long building it took
}

// MinIOCachePath is where the built MinIO binary is kept between runs.
func MinIOCachePath() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("user cache dir: %w", err)
	}
	return filepath.Join(dir, "cairn-bench", "minio-"+MinIOVersion), nil
}

// BuildMinIO returns the MinIO binary of MinIOVersion, building it into the
// cache when it is not there yet: as MinIO's own Makefile builds releases
// (CGO off, -tags kqueue, -trimpath), with the commit stamped into
// `minio --version`. goCmd is the go command; the build's output goes to
// log.
func BuildMinIO(ctx context.Context, goCmd string, log io.Writer) (Binary, error) {
	b := Binary{Version: MinIOVersion}
	path, err := MinIOCachePath()
	if err != nil {
		return b, err
	}
	b.Path = path
	if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
		b.Cached = true
		return b, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return b, err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(path), "build-")
	if err != nil {
		return b, err
	}
	defer os.RemoveAll(tmp)
	start := time.Now()
	ldflags := "-s -w" +
		" -X github.com/minio/minio/cmd.CommitID=" + minioCommitID +
		" -X github.com/minio/minio/cmd.ShortCommitID=" + minioCommitID
	cmd := exec.CommandContext(ctx, goCmd, "install", "-tags", "kqueue", "-trimpath", "-ldflags", ldflags,
		MinIOModule+"@"+MinIOVersion)
	cmd.Dir = tmp // outside any module or workspace
	cmd.Env = append(server.WithoutEnv(os.Environ(), "GOBIN=", "GOFLAGS=", "GOWORK=", "CGO_ENABLED=", "GOOS=", "GOARCH="),
		"GOBIN="+tmp, "GOFLAGS=", "GOWORK=off", "CGO_ENABLED=0")
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Run(); err != nil {
		return b, fmt.Errorf("build %s@%s: %w", MinIOModule, MinIOVersion, err)
	}
	if err := os.Rename(filepath.Join(tmp, "minio"), path); err != nil {
		return b, err
	}
	b.Build = time.Since(start).Seconds()
	return b, nil
}

// BuildStoraged builds cairn/cmd/storaged into dir; the go command runs in
// the current directory, which must be inside the cairn module.
func BuildStoraged(ctx context.Context, goCmd, dir string, log io.Writer) (Binary, error) {
	b := Binary{Path: filepath.Join(dir, "storaged"), Version: gitDescribe(ctx)}
	start := time.Now()
	cmd := exec.CommandContext(ctx, goCmd, "build", "-o", b.Path, "cairn/cmd/storaged")
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		return b, fmt.Errorf("build storaged (run inside the cairn module, or pass a binary): %w", err)
	}
	b.Build = time.Since(start).Seconds()
	return b, nil
}

// gitDescribe names the working tree's commit, "abc1234" or "abc1234 with
// uncommitted changes", or "" outside a git checkout.
func gitDescribe(ctx context.Context) string {
	out, err := exec.CommandContext(ctx, "git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return ""
	}
	rev := strings.TrimSpace(string(out))
	status, err := exec.CommandContext(ctx, "git", "status", "--short").Output()
	if err == nil && len(strings.TrimSpace(string(status))) > 0 {
		rev += " with uncommitted changes"
	}
	return rev
}
