package compare

import (
	"fmt"
	"runtime"
	"time"

	"cairn/bench/machine"
)

// Machine is what the comparison ran on, and its raw limits (kernels)
// measured in the same run.
type Machine struct {
	CPUs      int    `json:"cpus"`
	CPUModel  string `json:"cpu_model"`
	MemTotal  int64  `json:"mem_total_bytes"`
	GoVersion string `json:"go_version"`
	OSArch    string `json:"os_arch"`

	// LoopbackMiBps is one TCP stream over 127.0.0.1 within this process,
	// for about a second.
	LoopbackMiBps float64 `json:"loopback_tcp_mib_per_s"`
	// TLSMiBps is one mutual TLS 1.3 connection over 127.0.0.1 (Ed25519
	// certificates, 1 MiB writes), both ends in this process; TLSConnsMiBps
	// is TLSConns such connections at once (one per CPU), in all; TLSSuite
	// is the cipher suite they agreed on.
	TLSMiBps      float64 `json:"tls13_one_conn_mib_per_s"`
	TLSConnsMiBps float64 `json:"tls13_conns_mib_per_s"`
	TLSConns      int     `json:"tls13_conns"`
	TLSSuite      string  `json:"tls13_suite"`
	// VethMiBps is one TCP stream into the network namespace that MinIO's
	// distributed mode runs in (cluster mode, in a container), through its
	// veth pair; 0 when there is none.
	VethMiBps float64 `json:"veth_tcp_mib_per_s,omitempty"`
	// DiskWriteMiBps writes 256 MiB in 1 MiB writes to the data directory's
	// disk and fsyncs, including the fsync.
	DiskWriteMiBps float64 `json:"disk_write_fsync_mib_per_s"`
	// FsyncMs is the mean time of a 4 KiB write plus fsync on that disk.
	FsyncMs float64 `json:"fsync_4k_ms"`
	// SHA256MiBps is SHA-256 on one core: a chunk's CID.
	SHA256MiBps float64 `json:"sha256_one_core_mib_per_s"`
	// MD5MiBps is MD5 on one core: a PUT's ETag.
	MD5MiBps float64 `json:"md5_one_core_mib_per_s"`
	// BLAKE3MiBps is BLAKE3 on one core: the body hash of each signed
	// shard request, at both ends.
	BLAKE3MiBps float64 `json:"blake3_one_core_mib_per_s"`
	// HighwayHashMiBps is keyed HighwayHash-128 on one core: a sealed
	// stripe's shard sums (1.5 bytes per byte stored).
	HighwayHashMiBps float64 `json:"highwayhash_one_core_mib_per_s"`
	// AEADMiBps is AES-256-GCM sealing of 1 MiB chunks on one core, with
	// a key derived for each chunk as the gateway derives it.
	AEADMiBps float64 `json:"aead_seal_one_core_mib_per_s"`
	// RSEncodeMiBps is Reed-Solomon 4+2 encoding of 1 MiB chunks on one
	// goroutine (erasure.Codec.Encode), in chunk bytes.
	RSEncodeMiBps float64 `json:"rs_encode_4p2_one_core_mib_per_s"`
	// CopyMiBps copies 1 MiB into four 256 KiB buffers.
	CopyMiBps float64 `json:"memory_copy_mib_per_s"`

	// LoadAvgStart and LoadAvgEnd are /proc/loadavg's 1, 5 and 15 minute
	// averages when the comparison started and ended: other work on the
	// machine skews every figure.
	LoadAvgStart string `json:"loadavg_start"`
	LoadAvgEnd   string `json:"loadavg_end"`
}

// kernelTime is how long each CPU kernel runs.
const kernelTime = 500 * time.Millisecond

// measureMachine fills a Machine, using dir for the disk measurements.
func measureMachine(dir string) (Machine, error) {
	m := Machine{
		CPUs:         runtime.NumCPU(),
		CPUModel:     machine.CPUModel(),
		MemTotal:     machine.MemTotal(),
		GoVersion:    runtime.Version(),
		OSArch:       runtime.GOOS + "/" + runtime.GOARCH,
		LoadAvgStart: machine.LoadAvg(),
		TLSConns:     runtime.NumCPU(),
	}
	var err error
	if m.LoopbackMiBps, err = machine.Loopback(time.Second); err != nil {
		return m, fmt.Errorf("loopback: %w", err)
	}
	one, err := machine.TLS(1, time.Second)
	if err != nil {
		return m, fmt.Errorf("tls: %w", err)
	}
	m.TLSMiBps, m.TLSSuite = one.MiBps, one.Suite
	all, err := machine.TLS(m.TLSConns, time.Second)
	if err != nil {
		return m, fmt.Errorf("tls, %d connections: %w", m.TLSConns, err)
	}
	m.TLSConnsMiBps = all.MiBps
	if m.DiskWriteMiBps, err = machine.DiskWrite(dir, 256<<20, 1<<20, machine.SyncAtEnd); err != nil {
		return m, fmt.Errorf("disk write: %w", err)
	}
	if m.FsyncMs, err = machine.FsyncLatency(dir, 50); err != nil {
		return m, fmt.Errorf("fsync: %w", err)
	}
	m.SHA256MiBps = machine.SHA256(256 << 20)
	m.MD5MiBps = machine.MD5(kernelTime)
	m.BLAKE3MiBps = machine.BLAKE3(kernelTime)
	m.HighwayHashMiBps = machine.HighwayHash(kernelTime)
	if m.AEADMiBps, err = machine.AEAD(kernelTime); err != nil {
		return m, fmt.Errorf("aead: %w", err)
	}
	if m.RSEncodeMiBps, err = machine.RSEncode(4, 2, kernelTime); err != nil {
		return m, fmt.Errorf("reed-solomon: %w", err)
	}
	m.CopyMiBps = machine.Copy(kernelTime)
	return m, nil
}

// kernelTable is the machine's kernels, one row each: name, rate, what.
func (m Machine) kernelTable() table {
	t := table{{"kernel", "rate", "what"}}
	add := func(name string, v float64, unit, what string) {
		t = append(t, []string{name, fmt.Sprintf("%.0f %s", v, unit), what})
	}
	add("loopback TCP", m.LoopbackMiBps, "MiB/s", "one stream, 256 KiB writes")
	add("TLS 1.3 over loopback", m.TLSMiBps, "MiB/s", fmt.Sprintf("one connection, mutual, Ed25519, %s, 1 MiB writes", orDash(m.TLSSuite)))
	add("TLS 1.3 over loopback", m.TLSConnsMiBps, "MiB/s", fmt.Sprintf("%d connections at once, in all", m.TLSConns))
	if m.VethMiBps > 0 {
		add("TCP into MinIO's namespace", m.VethMiBps, "MiB/s", "one stream through the veth pair")
	}
	add("AES-256-GCM seal", m.AEADMiBps, "MiB/s", "1 MiB chunks, a key derived per chunk (HMAC-SHA256), one core")
	add("SHA-256", m.SHA256MiBps, "MiB/s", "one core")
	add("MD5", m.MD5MiBps, "MiB/s", "one core")
	add("BLAKE3", m.BLAKE3MiBps, "MiB/s", "one core (zeebo/blake3)")
	add("HighwayHash-128", m.HighwayHashMiBps, "MiB/s", "one core, keyed (minio/highwayhash): the shard sums")
	add("Reed-Solomon 4+2 encode", m.RSEncodeMiBps, "MiB/s", "1 MiB chunks, one goroutine, chunk bytes")
	add("memory copy", m.CopyMiBps, "MiB/s", "1 MiB into 4 × 256 KiB")
	add("disk write", m.DiskWriteMiBps, "MiB/s", "256 MiB in 1 MiB writes, then fsync")
	t = append(t, []string{"4 KiB write+fsync", fmt.Sprintf("%.2f ms", m.FsyncMs), "mean of 50"})
	return t
}
