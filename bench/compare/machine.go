package compare

import (
	"fmt"
	"runtime"
	"time"

	"cairn/bench/machine"
)

// Machine is what the comparison ran on, and its raw limits measured in
// the same run.
type Machine struct {
	CPUs      int    `json:"cpus"`
	CPUModel  string `json:"cpu_model"`
	MemTotal  int64  `json:"mem_total_bytes"`
	GoVersion string `json:"go_version"`
	OSArch    string `json:"os_arch"`

	// LoopbackMiBps is one TCP stream over 127.0.0.1 within this process,
	// for about a second.
	LoopbackMiBps float64 `json:"loopback_tcp_mib_per_s"`
	// DiskWriteMiBps writes 256 MiB in 1 MiB writes to the data directory's
	// disk and fsyncs, including the fsync.
	DiskWriteMiBps float64 `json:"disk_write_fsync_mib_per_s"`
	// FsyncMs is the mean time of a 4 KiB write plus fsync on that disk.
	FsyncMs float64 `json:"fsync_4k_ms"`
	// SHA256MiBps is SHA-256 on one core, Cairn's main CPU cost per byte.
	SHA256MiBps float64 `json:"sha256_one_core_mib_per_s"`

	// LoadAvgStart and LoadAvgEnd are /proc/loadavg's 1, 5 and 15 minute
	// averages when the comparison started and ended: other work on the
	// machine skews every figure.
	LoadAvgStart string `json:"loadavg_start"`
	LoadAvgEnd   string `json:"loadavg_end"`
}

// measureMachine fills a Machine, using dir for the disk measurements.
func measureMachine(dir string) (Machine, error) {
	m := Machine{
		CPUs:         runtime.NumCPU(),
		CPUModel:     machine.CPUModel(),
		MemTotal:     machine.MemTotal(),
		GoVersion:    runtime.Version(),
		OSArch:       runtime.GOOS + "/" + runtime.GOARCH,
		LoadAvgStart: machine.LoadAvg(),
	}
	var err error
	if m.LoopbackMiBps, err = machine.Loopback(time.Second); err != nil {
		return m, fmt.Errorf("loopback: %w", err)
	}
	if m.DiskWriteMiBps, err = machine.DiskWrite(dir, 256<<20, 1<<20, machine.SyncAtEnd); err != nil {
		return m, fmt.Errorf("disk write: %w", err)
	}
	if m.FsyncMs, err = machine.FsyncLatency(dir, 50); err != nil {
		return m, fmt.Errorf("fsync: %w", err)
	}
	m.SHA256MiBps = machine.SHA256(256 << 20)
	return m, nil
}
