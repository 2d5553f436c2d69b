package server

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Proc is a running server.
type Proc struct {
	// Name says which server it is ("cairn", "minio").
	Name string
	// Endpoint is its S3 address, host:port.
	Endpoint string
	// AccessKey and SecretKey are its S3 credentials.
	AccessKey, SecretKey string
	// RootCAs, when not nil, says the server serves S3 over HTTPS with a
	// certificate these authorities signed.
	RootCAs *x509.CertPool
	// LogPath holds its stdout and stderr.
	LogPath string

	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
}

// start runs cmd with its output in logPath and watches for its exit.
func start(name string, cmd *exec.Cmd, logPath string, stdout io.Writer) (*Proc, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd.Stderr = logf
	cmd.Stdout = logf
	if stdout != nil {
		cmd.Stdout = io.MultiWriter(logf, stdout)
	}
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Proc{Name: name, LogPath: logPath, cmd: cmd, exited: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		logf.Close()
		close(p.exited)
	}()
	return p, nil
}

// PID is the process ID.
func (p *Proc) PID() int { return p.cmd.Process.Pid }

// Exited is closed when the process has exited.
func (p *Proc) Exited() <-chan struct{} { return p.exited }

// Stop asks the process to exit (SIGTERM) and kills it when it has not
// within grace. It returns when the process is gone.
func (p *Proc) Stop(grace time.Duration) {
	if p.hasExited() {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(grace):
		p.cmd.Process.Kill()
		<-p.exited
	}
}

// Kill ends the process at once (SIGKILL), as a crash or a power cut
// would, and returns when it is gone.
func (p *Proc) Kill() {
	if p.hasExited() {
		return
	}
	p.cmd.Process.Kill()
	<-p.exited
}

func (p *Proc) hasExited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// LogTail returns the last n bytes of the process's log.
func (p *Proc) LogTail(n int) string {
	b, _ := os.ReadFile(p.LogPath)
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// URL is the server's S3 endpoint as a URL: https://Endpoint when it
// serves HTTPS (RootCAs), else http://Endpoint.
func (p *Proc) URL() string {
	if p.RootCAs != nil {
		return "https://" + p.Endpoint
	}
	return "http://" + p.Endpoint
}

// Client returns an S3 client for the server, over HTTPS trusting only
// RootCAs when they are set.
func (p *Proc) Client() (*minio.Client, error) {
	opts := &minio.Options{
		Creds:        credentials.NewStaticV4(p.AccessKey, p.SecretKey, ""),
		Region:       "us-east-1",
		BucketLookup: minio.BucketLookupPath,
	}
	if p.RootCAs != nil {
		tr, err := minio.DefaultTransport(true)
		if err != nil {
			return nil, err
		}
		tr.Proxy = nil
		tr.TLSClientConfig.RootCAs = p.RootCAs
		opts.Secure, opts.Transport = true, tr
	}
	return minio.New(p.Endpoint, opts)
}

// waitServing polls ListBuckets until the server answers it, the process
// exits, or timeout passes.
func (p *Proc) waitServing(ctx context.Context, timeout time.Duration) error {
	c, err := p.Client()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := c.ListBuckets(rctx)
		rcancel()
		if err == nil {
			return nil
		}
		select {
		case <-p.exited:
			return fmt.Errorf("%s exited before serving S3 (%v); log tail:\n%s", p.Name, p.waitErr, p.LogTail(4000))
		case <-ctx.Done():
			return fmt.Errorf("%s does not serve S3 on %s after %v: %w; log tail:\n%s", p.Name, p.Endpoint, timeout, err, p.LogTail(4000))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Mem is a process's memory use as /proc reports it, in bytes.
type Mem struct {
	RSS  int64 // VmRSS: resident now
	Peak int64 // VmHWM: the most ever resident
}

// Mem reads the process's resident memory from /proc/PID/status.
func (p *Proc) Mem() (Mem, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.PID()))
	if err != nil {
		return Mem{}, err
	}
	return parseStatus(b)
}

// parseStatus reads VmRSS and VmHWM from the text of /proc/PID/status.
func parseStatus(b []byte) (Mem, error) {
	var m Mem
	var found int
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return Mem{}, fmt.Errorf("/proc status %s: %w", name, err)
		}
		if name == "VmRSS" {
			m.RSS = kb << 10
		} else {
			m.Peak = kb << 10
		}
		found++
	}
	if found != 2 {
		return Mem{}, errors.New("/proc status: no VmRSS and VmHWM")
	}
	return m, nil
}

// CPUTime returns the CPU time (user and system) the process has used, from
// /proc/PID/stat.
func (p *Proc) CPUTime() (time.Duration, error) {
	u, s, err := p.CPUTimes()
	return u + s, err
}

// CPUTimes is CPUTime in its two parts: user and system (kernel) time.
func (p *Proc) CPUTimes() (user, sys time.Duration, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.PID()))
	if err != nil {
		return 0, 0, err
	}
	return parseStatTimes(b)
}

// clockTick is USER_HZ, the unit of /proc/PID/stat's times: 100 on every
// Linux architecture Go supports.
const clockTick = 100

// parseStat reads utime+stime from the text of /proc/PID/stat.
func parseStat(b []byte) (time.Duration, error) {
	u, s, err := parseStatTimes(b)
	return u + s, err
}

// parseStatTimes reads utime and stime from the text of /proc/PID/stat.
func parseStatTimes(b []byte) (user, sys time.Duration, err error) {
	// The command name (field 2) is in parentheses and may hold spaces;
	// fields are counted after its closing parenthesis.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, errors.New("/proc stat: no command name")
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, 0, errors.New("/proc stat: too few fields")
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, 0, fmt.Errorf("/proc stat: %w", err)
	}
	return time.Duration(ut) * time.Second / clockTick, time.Duration(st) * time.Second / clockTick, nil
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// WithoutEnv returns env without the variables whose names start with one
// of prefixes.
func WithoutEnv(env []string, prefixes ...string) []string {
	var out []string
next:
	for _, e := range env {
		for _, p := range prefixes {
			if strings.HasPrefix(e, p) {
				continue next
			}
		}
		out = append(out, e)
	}
	return out
}
