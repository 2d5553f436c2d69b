package machine

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// CPUModel is the first "model name" of /proc/cpuinfo, or "".
func CPUModel() string {
	return procField("/proc/cpuinfo", "model name")
}

// MemTotal is MemTotal of /proc/meminfo in bytes, or 0.
func MemTotal() int64 {
	var kb int64
	fmt.Sscanf(strings.TrimSuffix(procField("/proc/meminfo", "MemTotal"), " kB"), "%d", &kb)
	return kb << 10
}

// LoadAvg is the 1, 5 and 15 minute load averages of /proc/loadavg, or
// "": other work on the machine skews every figure.
func LoadAvg() string {
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
