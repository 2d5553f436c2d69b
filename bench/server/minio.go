package server

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
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
	cmd := exec.Command(o.Bin, "server", "--address", addr,
		"--console-address", fmt.Sprintf("127.0.0.1:%d", console), drives)
	cmd.Env = append(WithoutEnv(os.Environ(), "MINIO_", "AWS_"),
		"MINIO_ROOT_USER="+o.AccessKey,
		"MINIO_ROOT_PASSWORD="+o.SecretKey,
		fmt.Sprintf("MINIO_STORAGE_CLASS_STANDARD=EC:%d", o.Parity),
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
		// The drives are directories on the system disk. MinIO refuses
		// drives it takes for the root disk, and its root-disk probe
		// fails in VMs ("drive not found"); a threshold of one byte
		// replaces the probe with a size test no drive fails.
		"MINIO_ROOTDISK_THRESHOLD_SIZE=1",
	)
	p, err := start("minio", cmd, o.LogPath, nil)
	if err != nil {
		return nil, err
	}
	p.Endpoint, p.AccessKey, p.SecretKey = addr, o.AccessKey, o.SecretKey
	if err := p.waitServing(ctx, startTimeout); err != nil {
		p.Stop(5 * time.Second)
		return nil, err
	}
	return p, nil
}
