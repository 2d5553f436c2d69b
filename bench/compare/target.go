package compare

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"

	"cairn/bench/server"
)

// target is one side of the comparison: a server of one process or of
// several, and the S3 endpoints the load spreads over.
type target struct {
	name      string // "cairn", "minio"
	procs     []*server.Proc
	endpoints []string
	accessKey string
	secretKey string
	// rootCAs, when not nil, is the throwaway CA the endpoints' HTTPS
	// certificate chains to (Config.Secure).
	rootCAs *x509.CertPool
	// sse, when not nil, is a client of the target that checks an object
	// of every run for SSE-S3 (MinIO with Config.Secure).
	sse *minio.Client
	// profilers are the --debug-addr of Cairn's processes when the
	// comparison profiles them (Config.ProfileDir).
	profilers []profiler
}

// profiler is a process serving Go's /debug/pprof/ on addr.
type profiler struct {
	name, addr string
}

// cpuTime is the CPU time all the target's processes have used.
func (t *target) cpuTime() (time.Duration, error) {
	var sum time.Duration
	for _, p := range t.procs {
		d, err := p.CPUTime()
		if err != nil {
			return 0, err
		}
		sum += d
	}
	return sum, nil
}

// mem sums the processes' resident memory (VmRSS) and their peaks
// (VmHWM: each process's own, which need not have come at once).
func (t *target) mem() (server.Mem, error) {
	var sum server.Mem
	for _, p := range t.procs {
		m, err := p.Mem()
		if err != nil {
			return sum, err
		}
		sum.RSS += m.RSS
		sum.Peak += m.Peak
	}
	return sum, nil
}

// exited returns a process of the target that has exited, or nil.
func (t *target) exited() *server.Proc {
	for _, p := range t.procs {
		select {
		case <-p.Exited():
			return p
		default:
		}
	}
	return nil
}

// profileTimeout bounds a profile's fetch beyond the seconds it covers.
const profileTimeout = 30 * time.Second

// startProfiles asks each profiler for a CPU profile of the next d
// (whole seconds, at least one) and saves it as dir/prefix-NAME.pprof.
// wait returns once every profile is saved, with the first error.
func (t *target) startProfiles(ctx context.Context, dir, prefix string, d time.Duration) (wait func() error) {
	secs := max(1, int(d.Seconds()))
	var wg sync.WaitGroup
	errs := make([]error, len(t.profilers))
	for i, p := range t.profilers {
		wg.Go(func() {
			errs[i] = fetchProfile(ctx, p.addr, secs, filepath.Join(dir, prefix+"-"+p.name+".pprof"))
		})
	}
	return func() error {
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				return err
			}
		}
		return nil
	}
}

// fetchProfile saves the CPU profile of the next secs seconds of the
// process serving /debug/pprof/ on addr to path.
func fetchProfile(ctx context.Context, addr string, secs int, path string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(secs)*time.Second+profileTimeout)
	defer cancel()
	url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, secs)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("profile %s: %w", addr, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("profile %s: %s", addr, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return fmt.Errorf("profile %s: %w", addr, err)
	}
	return f.Close()
}
