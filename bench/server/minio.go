package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"cairn/internal/testnet"
)

// MinIOOptions says how to start a single-node MinIO server.
type MinIOOptions struct {
	// Bin is the minio binary.
	Bin string
	// Dir holds the drives, Dir/d1 … Dir/dN.
	Dir string
	// Drives is the number of drives (one erasure set). Default 6.
	Drives int
	// Parity is the parity of the STANDARD storage class (EC:Parity).
	// Default 2, so that 6 drives make 4+2 stripes as Cairn's dev cluster.
	Parity int
	// LogPath receives the process's output.
	LogPath string
	// AccessKey and SecretKey become the root user (MINIO_ROOT_USER,
	// MINIO_ROOT_PASSWORD); the secret needs at least 8 characters.
	AccessKey, SecretKey string
	// TLS, when not nil, makes MinIO serve HTTPS with its server
	// certificate (--certs-dir, written under Dir), and its Procs'
	// Client trust its authority.
	TLS *TLS
	// KMSSecretKey, when set, is MINIO_KMS_SECRET_KEY, a static key
	// "NAME:BASE64" (NewKMSSecretKey) that MinIO's SSE-S3 encrypts
	// objects at rest with, in a bucket whose default encryption is SSE-S3.
	KMSSecretKey string
}

// StartMinIO starts `minio server` over Drives directories with its API and
// console on free loopback ports, and returns once it serves S3. The caller
// must Stop it.
func StartMinIO(ctx context.Context, o MinIOOptions) (*Proc, error) {
	if o.Drives == 0 {
		o.Drives = 6
	}
	if o.Parity == 0 {
		o.Parity = 2
	}
	for i := 1; i <= o.Drives; i++ {
		if err := os.MkdirAll(filepath.Join(o.Dir, "d"+strconv.Itoa(i)), 0o755); err != nil {
			return nil, err
		}
	}
	api, err := FreePort()
	if err != nil {
		return nil, err
	}
	console, err := FreePort()
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", api)
	// MinIO expands the ellipsis itself: Dir/d{1...6}.
	drives := filepath.Join(o.Dir, fmt.Sprintf("d{1...%d}", o.Drives))
	args := []string{"server", "--address", addr, "--console-address", fmt.Sprintf("127.0.0.1:%d", console)}
	if o.TLS != nil {
		certs := filepath.Join(o.Dir, "certs")
		if err := o.TLS.MinIOCertsDir(certs); err != nil {
			return nil, err
		}
		args = append(args, "--certs-dir", certs)
	}
	cmd := exec.Command(o.Bin, append(args, drives)...)
	cmd.Env = minioEnv(o.AccessKey, o.SecretKey, o.Parity, o.KMSSecretKey)
	p, err := start("minio", cmd, o.LogPath, nil)
	if err != nil {
		return nil, err
	}
	p.Endpoint, p.AccessKey, p.SecretKey = addr, o.AccessKey, o.SecretKey
	if o.TLS != nil {
		p.RootCAs = o.TLS.Roots
	}
	if err := p.waitServing(ctx, startTimeout); err != nil {
		p.Stop(5 * time.Second)
		return nil, err
	}
	return p, nil
}

// MinIOClusterOptions says how to start MinIO's distributed mode: Nodes
// processes with one drive each, all in one erasure set.
type MinIOClusterOptions struct {
	// Bin is the minio binary.
	Bin string
	// Dir holds node I's drive, Dir/nI/d, and its log, Dir/nI/minio.log.
	Dir string
	// Nodes is the number of processes. Default 6.
	Nodes int
	// Parity is the parity of the STANDARD storage class (EC:Parity).
	// Default 2: 6 nodes make 4+2 stripes, as Cairn's six-node cluster.
	Parity int
	// AccessKey and SecretKey become the root user.
	AccessKey, SecretKey string
	// Netns, when not nil, is where the processes run, each on its own
	// port of Netns.IP: MinIO in a container (it finds /.dockerenv)
	// refuses endpoints that resolve to loopback. Nil runs them on
	// 127.0.0.1.
	Netns *Netns
	// TLS, when not nil, makes MinIO serve HTTPS with its server
	// certificate (--certs-dir, written under Dir), on S3 and between its nodes
	// (https:// endpoints), and its Procs'
	// Client trust its authority.
	TLS *TLS
	// KMSSecretKey, when set, is MINIO_KMS_SECRET_KEY, a static key
	// "NAME:BASE64" (NewKMSSecretKey) that MinIO's SSE-S3 encrypts
	// objects at rest with, in a bucket whose default encryption is SSE-S3.
	KMSSecretKey string
}

// MinIOCluster is a running distributed MinIO. Stop ends every process.
type MinIOCluster struct {
	// Procs are the processes, node 1 first; Procs[i].Endpoint is node
	// i+1's S3 address, host:port.
	Procs []*Proc
	// Endpoints are the S3 addresses in the same order.
	Endpoints []string
}

// minioNode is one process of a MinIOCluster: its addresses and drive.
type minioNode struct {
	api, console, drive, log string
}

// minioClusterArgs is the command line of node i (from 0) of nodes: its
// own addresses, then every node's drive URL, the same on every node.
// With certsDir (--certs-dir) the nodes serve HTTPS, to clients and to
// each other, so the drive URLs are https://.
func minioClusterArgs(nodes []minioNode, i int, certsDir string) []string {
	args := []string{"server", "--address", nodes[i].api, "--console-address", nodes[i].console}
	scheme := "http://"
	if certsDir != "" {
		args = append(args, "--certs-dir", certsDir)
		scheme = "https://"
	}
	for _, n := range nodes {
		args = append(args, scheme+n.api+n.drive)
	}
	return args
}

// NewKMSSecretKey returns a MinIO static KMS key named name
// (MINIO_KMS_SECRET_KEY): "name:" and 32 random bytes in base64.
func NewKMSSecretKey(name string) string {
	var key [32]byte
	rand.Read(key[:])
	return name + ":" + base64.StdEncoding.EncodeToString(key[:])
}

// minioEnv is the environment of a MinIO server: the root user, the
// parity, no browser, no update checks, no root-disk probe, and the static
// KMS key kmsKey unless it is "".
func minioEnv(accessKey, secretKey string, parity int, kmsKey string) []string {
	env := WithoutEnv(os.Environ(), "MINIO_", "AWS_")
	if kmsKey != "" {
		env = append(env, "MINIO_KMS_SECRET_KEY="+kmsKey)
	}
	return append(env,
		"MINIO_ROOT_USER="+accessKey,
		"MINIO_ROOT_PASSWORD="+secretKey,
		fmt.Sprintf("MINIO_STORAGE_CLASS_STANDARD=EC:%d", parity),
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
		// The drives are directories on the system disk. MinIO refuses
		// drives it takes for the root disk, and its root-disk probe
		// fails in VMs ("drive not found"); a threshold of one byte
		// replaces the probe with a size test no drive fails.
		"MINIO_ROOTDISK_THRESHOLD_SIZE=1",
	)
}

// StartMinIOCluster starts MinIO's distributed mode and returns once every
// node serves S3 (which a distributed MinIO does once its erasure set has
// formed). On error it stops what it started; the logs stay in o.Dir. The
// caller must Stop it.
func StartMinIOCluster(ctx context.Context, o MinIOClusterOptions) (*MinIOCluster, error) {
	if o.Nodes == 0 {
		o.Nodes = 6
	}
	if o.Parity == 0 {
		o.Parity = 2
	}
	nodes := make([]minioNode, o.Nodes)
	for i := range nodes {
		dir := filepath.Join(o.Dir, fmt.Sprintf("n%d", i+1))
		nodes[i].drive = filepath.Join(dir, "d")
		nodes[i].log = filepath.Join(dir, "minio.log")
		if err := os.MkdirAll(nodes[i].drive, 0o755); err != nil {
			return nil, err
		}
		if o.Netns != nil {
			// A namespace of the benchmark's own: every port is free.
			nodes[i].api = fmt.Sprintf("%s:%d", o.Netns.IP, 9001+i)
			nodes[i].console = fmt.Sprintf("%s:%d", o.Netns.IP, 9101+i)
			continue
		}
		for _, addr := range []*string{&nodes[i].api, &nodes[i].console} {
			p, err := testnet.Port("127.0.0.1")
			if err != nil {
				return nil, err
			}
			*addr = net.JoinHostPort("127.0.0.1", p)
		}
	}
	var certs string
	if o.TLS != nil {
		certs = filepath.Join(o.Dir, "certs")
		if err := o.TLS.MinIOCertsDir(certs); err != nil {
			return nil, err
		}
	}
	c := &MinIOCluster{}
	for i, n := range nodes {
		args := minioClusterArgs(nodes, i, certs)
		cmd := exec.Command(o.Bin, args...)
		if o.Netns != nil {
			cmd = o.Netns.Command(o.Bin, args...)
		}
		cmd.Env = minioEnv(o.AccessKey, o.SecretKey, o.Parity, o.KMSSecretKey)
		p, err := start(fmt.Sprintf("minio n%d", i+1), cmd, n.log, nil)
		if err != nil {
			c.Stop(5 * time.Second)
			return nil, err
		}
		p.Endpoint, p.AccessKey, p.SecretKey = n.api, o.AccessKey, o.SecretKey
		if o.TLS != nil {
			p.RootCAs = o.TLS.Roots
		}
		c.Procs = append(c.Procs, p)
		c.Endpoints = append(c.Endpoints, n.api)
	}
	for _, p := range c.Procs {
		if err := p.waitServing(ctx, startTimeout); err != nil {
			c.Stop(5 * time.Second)
			return nil, err
		}
	}
	return c, nil
}

// Stop ends every process, all at once: SIGTERM, then SIGKILL for one
// still running after grace. It returns when they are gone.
func (c *MinIOCluster) Stop(grace time.Duration) {
	var wg sync.WaitGroup
	for _, p := range c.Procs {
		wg.Go(func() { p.Stop(grace) })
	}
	wg.Wait()
}

// MinIORefusesLoopback reports whether MinIO's distributed mode would
// refuse endpoints on loopback here: it does where it finds itself in a
// container (/.dockerenv or /run/.containerenv exists, or
// KUBERNETES_SERVICE_HOST is set), and then waits forever for
// "127.0.0.1 resolves to localhost in a containerized deployment".
func MinIORefusesLoopback() bool {
	for _, f := range []string{"/.dockerenv", "/run/.containerenv"} {
		if _, err := os.Stat(f); err == nil {
			return true
		}
	}
	return os.Getenv("KUBERNETES_SERVICE_HOST") != ""
}
