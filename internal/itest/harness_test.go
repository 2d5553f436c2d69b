//go:build integration

// Package itest holds the integration tests: they build storaged, start
// real processes on loopback (random ports, temp dirs) and drive them with
// real S3 clients. Run with `make integration`.
package itest

import (
	"bufio"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

const (
	accessKey = "CAIRNTESTACCESSKEY"
	secretKey = "cairn-test-secret-key-0123456789abcdef"
	region    = "us-east-1"
)

// storagedBin and storectlBin are the binaries, built once for the whole run.
var storagedBin, storectlBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "cairn-itest-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	storagedBin, storectlBin = filepath.Join(dir, "storaged"), filepath.Join(dir, "storectl")
	build := exec.Command("go", "build", "-o", dir, "cairn/cmd/storaged", "cairn/cmd/storectl")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build storaged and storectl:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a running storaged process.
type proc struct {
	t        *testing.T
	cmd      *exec.Cmd
	data     string
	endpoint string // host:port of S3
	access   string // the access key the banner printed
	secret   string
	metrics  string   // the gateway's /metrics URL, from the banner
	nodeMets []string // the storage nodes' /metrics URLs
	admin    []string // storectl's --node and --token-file flags, from the banner
	exited   chan struct{}
	logPath  string
}

// startDev starts `storaged --dev` on a free port over data (a fresh temp
// dir when empty) and waits until it serves S3. The process is killed when
// the test ends.
func startDev(t *testing.T, data string) *proc {
	t.Helper()
	return startDevEnv(t, data, "CAIRN_ACCESS_KEY="+accessKey, "CAIRN_SECRET_KEY="+secretKey)
}

// startDevEnv is startDev with the given extra environment.
func startDevEnv(t *testing.T, data string, env ...string) *proc {
	t.Helper()
	return startDevArgs(t, data, nil, env...)
}

// startDevArgs is startDevEnv with extra storaged flags.
func startDevArgs(t *testing.T, data string, args []string, env ...string) *proc {
	t.Helper()
	if data == "" {
		data = t.TempDir()
	}
	logf, err := os.CreateTemp(t.TempDir(), "storaged-*.log")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(storagedBin, append([]string{"--dev", "--data", data, "--s3", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--console", "127.0.0.1:0", "--log-level", "debug"}, args...)...)
	cmd.Env = append(withoutCairnEnv(os.Environ()), env...)
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, cmd: cmd, data: data, exited: make(chan struct{}), logPath: logf.Name()}
	addr := make(chan string, 1)
	go func() {
		// The banner's last line is the secret key; the endpoint comes
		// before it.
		sc := bufio.NewScanner(out)
		var ep string
		for sc.Scan() {
			line := sc.Text()
			if v, ok := strings.CutPrefix(line, "S3 endpoint:"); ok {
				ep = strings.TrimPrefix(strings.TrimSpace(v), "http://")
			}
			if v, ok := strings.CutPrefix(line, "Metrics:"); ok {
				p.metrics, _, _ = strings.Cut(strings.TrimSpace(v), " ")
			}
			if v, ok := strings.CutPrefix(line, "Node metrics:"); ok {
				for _, f := range strings.Fields(v) {
					if strings.HasPrefix(f, "http://") {
						p.nodeMets = append(p.nodeMets, f)
					}
				}
			}
			if v, ok := strings.CutPrefix(line, "Admin:"); ok {
				// The storectl command (its path), then its flags.
				if f := strings.Fields(v); len(f) > 0 {
					p.admin = f[1:]
				}
			}
			if v, ok := strings.CutPrefix(line, "Access key:"); ok {
				p.access = strings.TrimSpace(v)
			}
			if v, ok := strings.CutPrefix(line, "Secret key:"); ok {
				if !strings.Contains(v, "CAIRN_SECRET_KEY") {
					p.secret = strings.TrimSpace(v)
				}
				addr <- ep
			}
		}
		io.Copy(io.Discard, out)
	}()
	go func() { cmd.Wait(); logf.Close(); close(p.exited) }()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			b, _ := os.ReadFile(p.logPath)
			if len(b) > 8000 {
				b = b[len(b)-8000:]
			}
			t.Logf("storaged log (tail):\n%s", b)
		}
	})
	select {
	case p.endpoint = <-addr:
		for _, e := range env {
			if v, ok := strings.CutPrefix(e, "CAIRN_SECRET_KEY="); ok {
				p.secret = v
			}
		}
	case <-p.exited:
		b, _ := os.ReadFile(p.logPath)
		t.Fatalf("storaged exited before serving: %s", b)
	case <-time.After(60 * time.Second):
		t.Fatal("storaged did not print its S3 endpoint within 60s")
	}
	return p
}

// kill sends SIGKILL and waits: a crash at an arbitrary point.
func (p *proc) kill() {
	p.cmd.Process.Kill()
	<-p.exited
}

// stop sends SIGTERM and waits for a clean exit.
func (p *proc) stop() {
	p.t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		p.t.Fatal("storaged did not stop within 30s of SIGTERM")
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		p.t.Fatalf("storaged exited %d after SIGTERM", code)
	}
}

// peakRSS returns the process's peak resident set (VmHWM) in bytes.
func (p *proc) peakRSS() int64 { return p.status("VmHWM") }

// rss returns the process's resident set (VmRSS) in bytes.
func (p *proc) rss() int64 { return p.status("VmRSS") }

// status returns a size field of /proc/PID/status in bytes.
func (p *proc) status(field string) int64 {
	p.t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		p.t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				p.t.Fatal(err)
			}
			return kb << 10
		}
	}
	p.t.Fatalf("no %s in /proc status", field)
	return 0
}

// mappedRSS returns the resident bytes of the process's mappings of files
// whose path ends with suffix (from /proc/PID/smaps).
func (p *proc) mappedRSS(suffix string) int64 {
	p.t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps", p.cmd.Process.Pid))
	if err != nil {
		p.t.Fatal(err)
	}
	var total int64
	in := false
	for line := range strings.Lines(string(b)) {
		fs := strings.Fields(line)
		switch {
		case len(fs) >= 5 && strings.Contains(fs[0], "-") && !strings.HasSuffix(fs[0], ":"):
			in = len(fs) >= 6 && strings.HasSuffix(fs[len(fs)-1], suffix)
		case in && len(fs) == 3 && fs[0] == "Rss:":
			kb, err := strconv.ParseInt(fs[1], 10, 64)
			if err != nil {
				p.t.Fatal(err)
			}
			total += kb << 10
		}
	}
	return total
}

// withoutCairnEnv drops CAIRN_* and AWS_* variables so that tests control
// them: an inherited AWS_CA_BUNDLE, for one, makes rclone's SDK refuse to
// start even for a plain-http endpoint.
func withoutCairnEnv(env []string) []string {
	var out []string
	for _, e := range env {
		if !strings.HasPrefix(e, "CAIRN_") && !strings.HasPrefix(e, "AWS_") {
			out = append(out, e)
		}
	}
	return out
}

func (p *proc) url() string { return "http://" + p.endpoint }

// client returns a minio-go client for the process.
func (p *proc) client() *minio.Client {
	p.t.Helper()
	c, err := minio.New(p.endpoint, &minio.Options{
		Creds:      credentials.NewStaticV4(p.access, p.secret, ""),
		Region:     region,
		MaxRetries: 2, // a test sees a failure rather than ten retries of it
	})
	if err != nil {
		p.t.Fatal(err)
	}
	return c
}

// nodeDirs returns the storage node directories of a dev cluster.
func (p *proc) nodeDirs() []string {
	p.t.Helper()
	dirs, err := filepath.Glob(filepath.Join(p.data, "dev-[0-9]*", "shards"))
	if err != nil || len(dirs) == 0 {
		p.t.Fatalf("no node dirs under %s: %v", p.data, err)
	}
	return dirs
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// payload is a deterministic, seekable-by-regeneration byte stream.
type payload struct {
	rng  *rand.ChaCha8
	left int64
}

func newPayload(seed uint64, size int64) *payload {
	var s [32]byte
	for i := range 8 {
		s[i] = byte(seed >> (8 * i))
	}
	return &payload{rng: rand.NewChaCha8(s), left: size}
}

func (p *payload) Read(b []byte) (int, error) {
	if p.left == 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > p.left {
		b = b[:p.left]
	}
	n, _ := p.rng.Read(b)
	p.left -= int64(n)
	return n, nil
}

// payloadBytes returns the payload of a given seed and size in memory (for
// small objects only).
func payloadBytes(seed uint64, size int64) []byte {
	b, err := io.ReadAll(newPayload(seed, size))
	if err != nil {
		panic(err)
	}
	return b
}

// digest hashes a stream.
func digest(t *testing.T, r io.Reader) ([32]byte, int64) {
	t.Helper()
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		t.Fatalf("read after %d bytes: %v", n, err)
	}
	var d [32]byte
	copy(d[:], h.Sum(nil))
	return d, n
}

func mkBucket(t *testing.T, c *minio.Client, name string) {
	t.Helper()
	if err := c.MakeBucket(ctxT(t), name, minio.MakeBucketOptions{Region: region}); err != nil {
		t.Fatalf("make bucket %s: %v", name, err)
	}
}

// rawClient is a plain HTTP client with a deadline, for hand-built requests.
var rawClient = &http.Client{Timeout: 2 * time.Minute}

func md5Of(t *testing.T, r io.Reader) []byte {
	t.Helper()
	h := md5.New()
	if _, err := io.Copy(h, r); err != nil {
		t.Fatal(err)
	}
	return h.Sum(nil)
}
