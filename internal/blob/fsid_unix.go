//go:build unix

package blob

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
)

// hostID names this machine for fsID: its systemd machine ID, else its
// host name.
var hostID = sync.OnceValue(func() string {
	for _, f := range []string{"/etc/machine-id", "/var/lib/dbus/machine-id"} {
		if b, err := os.ReadFile(f); err == nil {
			if id := strings.TrimSpace(string(b)); id != "" {
				return id
			}
		}
	}
	h, _ := os.Hostname()
	return h
})

// fsID names the file system that holds dir: the machine and the device
// number it is mounted from, the same for every store on it, which share
// its free space and capacity. "" when it cannot be told.
func fsID(dir string) string {
	var st syscall.Stat_t
	if err := syscall.Stat(dir, &st); err != nil {
		return ""
	}
	h := hostID()
	if h == "" {
		return ""
	}
	return fmt.Sprintf("%s:%x", h, uint64(st.Dev)) // Dev is uint64 on Linux, int32 on some BSDs
}
