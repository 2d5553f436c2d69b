package server

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// CairnOptions says how to start `storaged --dev`.
type CairnOptions struct {
	// Bin is the storaged binary.
	Bin string
	// Data is the data directory (--data); a fresh one starts a fresh
	// cluster.
	Data string
	// LogPath receives the process's output.
	LogPath string
	// AccessKey and SecretKey become the S3 key pair (CAIRN_ACCESS_KEY,
	// CAIRN_SECRET_KEY).
	AccessKey, SecretKey string
	// Args are more flags, such as "--log-level", "warn".
	Args []string
	// TLS, when not nil, makes the S3 port serve HTTPS with its server
	// certificate (--s3-cert, --s3-key).
	TLS *TLS
}

// startTimeout bounds a server's start, until it answers S3.
const startTimeout = 90 * time.Second

// StartCairn starts `storaged --dev` with its S3 gateway on a free loopback
// port and returns once it serves S3. The caller must Stop it.
func StartCairn(ctx context.Context, o CairnOptions) (*Proc, error) {
	// Free ports for the admin API and no console: the dev defaults
	// (127.0.0.1:7070, :9001) may be taken by a `make run` on the machine.
	args := []string{"--dev", "--data", o.Data, "--s3", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--console", ""}
	if o.TLS != nil {
		args = append(args, "--s3-cert", o.TLS.CertFile, "--s3-key", o.TLS.KeyFile)
	}
	args = append(args, o.Args...)
	cmd := exec.Command(o.Bin, args...)
	cmd.Env = append(WithoutEnv(os.Environ(), "CAIRN_", "AWS_"),
		"CAIRN_ACCESS_KEY="+o.AccessKey, "CAIRN_SECRET_KEY="+o.SecretKey)
	pr, pw := io.Pipe()
	p, err := start("cairn", cmd, o.LogPath, pw)
	if err != nil {
		pw.Close()
		return nil, err
	}
	p.AccessKey, p.SecretKey = o.AccessKey, o.SecretKey
	if o.TLS != nil {
		p.RootCAs = o.TLS.Roots
	}
	go func() {
		<-p.exited
		pw.Close()
	}()
	// The banner prints the S3 endpoint, and last the secret key, when the
	// cluster is up.
	endpoint := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		var ep string
		for sc.Scan() {
			line := sc.Text()
			if v, ok := strings.CutPrefix(line, "S3 endpoint:"); ok {
				ep = strings.TrimSpace(v)
				ep = strings.TrimPrefix(strings.TrimPrefix(ep, "http://"), "https://")
			}
			if strings.HasPrefix(line, "Secret key:") {
				endpoint <- ep
				break
			}
		}
		io.Copy(io.Discard, pr)
	}()
	select {
	case p.Endpoint = <-endpoint:
	case <-p.exited:
		return nil, fmt.Errorf("storaged exited before serving (%v); log tail:\n%s", p.waitErr, p.LogTail(4000))
	case <-time.After(startTimeout):
		p.Stop(5 * time.Second)
		return nil, fmt.Errorf("storaged printed no S3 endpoint within %v; log tail:\n%s", startTimeout, p.LogTail(4000))
	case <-ctx.Done():
		p.Stop(5 * time.Second)
		return nil, ctx.Err()
	}
	if p.Endpoint == "" {
		p.Stop(5 * time.Second)
		return nil, fmt.Errorf("storaged's banner has no S3 endpoint; log tail:\n%s", p.LogTail(4000))
	}
	if err := p.waitServing(ctx, startTimeout); err != nil {
		p.Stop(5 * time.Second)
		return nil, err
	}
	return p, nil
}
