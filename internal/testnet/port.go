// Package testnet gives tests, and benchmarks that start clusters of
// processes, loopback ports that stay theirs.
//
// A port a test picks by listening on port 0 comes from the kernel's
// ephemeral range (net.ipv4.ip_local_port_range), the same range every
// outgoing connection takes its local port from. A test that picks a
// port, closes it and starts a process on it later can find it taken by
// an outgoing connection in between: a cluster's gossip, Raft and HTTP
// clients open many. Ports outside that range are only ever taken by an
// explicit bind, so FreePort returns those.
package testnet

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// The ports FreePort chooses from when the ephemeral range leaves room
// below it; Linux's default range starts at 32768.
const (
	lowestPort = 10000
	minSpan    = 2000
)

var (
	mu     sync.Mutex
	given  = map[int]bool{}
	region [2]int // [first, last] port FreePort chooses from
)

// FreePort returns a port, as a string, whose TCP and UDP sockets on ip
// were free a moment ago and that lies outside the kernel's ephemeral
// range, so no outgoing connection will take it. It never returns the same
// port twice in one process. It fails the test when there is none.
func FreePort(t testing.TB, ip string) string {
	t.Helper()
	p, err := Port(ip)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Port is FreePort for code that is not a test, such as a benchmark
// starting a cluster: it returns an error where FreePort fails the test.
func Port(ip string) (string, error) {
	mu.Lock()
	defer mu.Unlock()
	if region[1] == 0 {
		region = choosable(ephemeralRange())
	}
	if region[1] < region[0] {
		return ephemeralPort(ip)
	}
	span := region[1] - region[0] + 1
	start := rand.IntN(span)
	for i := range span {
		p := region[0] + (start+i)%span
		if given[p] || !free(ip, p) {
			continue
		}
		given[p] = true
		return strconv.Itoa(p), nil
	}
	return "", fmt.Errorf("testnet: no free port in %d-%d on %s", region[0], region[1], ip)
}

// FreeAddr is FreePort joined with ip.
func FreeAddr(t testing.TB, ip string) string {
	t.Helper()
	return net.JoinHostPort(ip, FreePort(t, ip))
}

// ephemeralRange reads the kernel's ephemeral port range, or returns the
// IANA range (49152-65535, the BSDs' and Windows') where it cannot.
func ephemeralRange() (lo, hi int) {
	f, err := os.Open("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 49152, 65535
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) == 2 {
			l, err1 := strconv.Atoi(fs[0])
			h, err2 := strconv.Atoi(fs[1])
			if err1 == nil && err2 == nil && l <= h {
				return l, h
			}
		}
	}
	return 49152, 65535
}

// choosable returns the ports outside [lo, hi] to choose from: below the
// range if there is room, else above it; an empty region (last < first)
// if neither has room.
func choosable(lo, hi int) [2]int {
	switch {
	case lo-lowestPort >= minSpan:
		return [2]int{lowestPort, lo - 1}
	case 65535-hi >= minSpan:
		return [2]int{hi + 1, 65535}
	}
	return [2]int{1, 0}
}

// free reports whether both the TCP and the UDP port p on ip can be bound.
func free(ip string, p int) bool {
	addr := net.JoinHostPort(ip, strconv.Itoa(p))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return false
	}
	ln.Close()
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return false
	}
	pc.Close()
	return true
}

// ephemeralPort is the fallback when the kernel leaves no room outside
// its ephemeral range: a port the kernel picks, free for UDP too.
func ephemeralPort(ip string) (string, error) {
	for range 20 {
		ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
		if err != nil {
			return "", fmt.Errorf("testnet: listen on %s: %w", ip, err)
		}
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		ln.Close()
		p, _ := strconv.Atoi(port)
		if given[p] || !free(ip, p) {
			continue
		}
		given[p] = true
		return port, nil
	}
	return "", fmt.Errorf("testnet: no free port on %s", ip)
}
