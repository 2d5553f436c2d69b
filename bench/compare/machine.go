package compare

import (
	"bufio"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
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
		CPUModel:     cpuModel(),
		MemTotal:     memTotal(),
		GoVersion:    runtime.Version(),
		OSArch:       runtime.GOOS + "/" + runtime.GOARCH,
		LoadAvgStart: loadAvg(),
	}
	var err error
	if m.LoopbackMiBps, err = loopbackThroughput(time.Second); err != nil {
		return m, fmt.Errorf("loopback: %w", err)
	}
	if m.DiskWriteMiBps, err = diskWrite(dir, 256<<20); err != nil {
		return m, fmt.Errorf("disk write: %w", err)
	}
	if m.FsyncMs, err = fsyncLatency(dir, 50); err != nil {
		return m, fmt.Errorf("fsync: %w", err)
	}
	m.SHA256MiBps = sha256Throughput(256 << 20)
	return m, nil
}

// loopbackThroughput copies bytes over one TCP connection on 127.0.0.1 for
// about d and returns the rate the receiver saw, in MiB/s.
func loopbackThroughput(d time.Duration) (float64, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	type result struct {
		n   int64
		dur time.Duration
		err error
	}
	got := make(chan result, 1)
	var wg sync.WaitGroup
	wg.Go(func() {
		c, err := l.Accept()
		if err != nil {
			got <- result{err: err}
			return
		}
		defer c.Close()
		buf := make([]byte, 256<<10)
		var n int64
		start := time.Now()
		for {
			m, err := c.Read(buf)
			n += int64(m)
			if err == io.EOF {
				got <- result{n: n, dur: time.Since(start)}
				return
			}
			if err != nil {
				got <- result{err: err}
				return
			}
		}
	})
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		l.Close()
		wg.Wait()
		return 0, err
	}
	buf := make([]byte, 256<<10)
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if _, err := c.Write(buf); err != nil {
			c.Close()
			wg.Wait()
			return 0, err
		}
	}
	c.Close()
	wg.Wait()
	r := <-got
	if r.err != nil {
		return 0, r.err
	}
	return float64(r.n) / (1 << 20) / r.dur.Seconds(), nil
}

// diskWrite writes size bytes to a file in dir in 1 MiB writes, fsyncs it,
// removes it, and returns the rate in MiB/s.
func diskWrite(dir string, size int64) (float64, error) {
	f, err := os.CreateTemp(dir, "diskwrite-*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	buf := make([]byte, 1<<20)
	for i := range buf {
		buf[i] = byte(i*7 + i>>8) // not zeros, in case the disk compresses
	}
	start := time.Now()
	for n := int64(0); n < size; n += int64(len(buf)) {
		if _, err := f.Write(buf); err != nil {
			return 0, err
		}
	}
	if err := f.Sync(); err != nil {
		return 0, err
	}
	return float64(size) / (1 << 20) / time.Since(start).Seconds(), nil
}

// fsyncLatency times n rounds of a 4 KiB write and an fsync, in ms each.
func fsyncLatency(dir string, n int) (float64, error) {
	f, err := os.CreateTemp(dir, "fsync-*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	buf := make([]byte, 4<<10)
	start := time.Now()
	for range n {
		if _, err := f.Write(buf); err != nil {
			return 0, err
		}
		if err := f.Sync(); err != nil {
			return 0, err
		}
	}
	return float64(time.Since(start).Microseconds()) / 1e3 / float64(n), nil
}

// sha256Throughput hashes size bytes on one core, in MiB/s.
func sha256Throughput(size int) float64 {
	buf := make([]byte, 1<<20)
	h := sha256.New()
	start := time.Now()
	for n := 0; n < size; n += len(buf) {
		h.Write(buf)
	}
	h.Sum(nil)
	return float64(size) / (1 << 20) / time.Since(start).Seconds()
}

// cpuModel is the first "model name" of /proc/cpuinfo, or "".
func cpuModel() string {
	return procField("/proc/cpuinfo", "model name")
}

// memTotal is MemTotal of /proc/meminfo in bytes, or 0.
func memTotal() int64 {
	var kb int64
	fmt.Sscanf(strings.TrimSuffix(procField("/proc/meminfo", "MemTotal"), " kB"), "%d", &kb)
	return kb << 10
}

// loadAvg is the 1, 5 and 15 minute load averages, or "".
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// procField returns the value of the first "name: value" line of file.
func procField(file, name string) string {
	f, err := os.Open(filepath.Clean(file))
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
