//go:build integration

package itest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// netLab is a set of network namespaces, one per host, each with its own
// address on a bridge in the root namespace (which the test reaches them
// through). A second bridge, unconnected to the first, is where hosts are
// moved to cut them off from the rest.
type netLab struct {
	t       *testing.T
	prefix  string // names of this lab's namespaces and links
	bridge  string
	island  string
	hosts   []netHost
	veths   []string // root-side veth of each host
	cleanup []func()
}

// ip runs the ip command.
func ip(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// newNetLab makes n hosts in network namespaces, or skips the test where
// the machine does not allow it (not root, no ip command, no netns).
func newNetLab(t *testing.T, n int) *netLab {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("network namespaces need root; the loopback variant of this test covers the rest")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("no ip command (iproute2); the loopback variant of this test covers the rest")
	}
	id := os.Getpid() % 10000
	lab := &netLab{t: t, prefix: fmt.Sprintf("cn%d", id), bridge: fmt.Sprintf("cbr%d", id), island: fmt.Sprintf("cis%d", id)}
	subnet := fmt.Sprintf("10.213.%d", id%250)
	t.Cleanup(lab.close)
	if err := ip("link", "add", lab.bridge, "type", "bridge"); err != nil {
		t.Skipf("cannot make a bridge here (%v); the loopback variant of this test covers the rest", err)
	}
	lab.cleanup = append(lab.cleanup, func() { ip("link", "del", lab.bridge) })
	// Any failure to set the lab up is the machine's limit, not Cairn's.
	must := func(err error) {
		if err != nil {
			t.Skipf("cannot set up the network namespaces here (%v); the loopback variant of this test covers the rest", err)
		}
	}
	must(ip("addr", "add", subnet+".254/24", "dev", lab.bridge))
	must(ip("link", "set", lab.bridge, "up"))
	must(ip("link", "add", lab.island, "type", "bridge"))
	lab.cleanup = append(lab.cleanup, func() { ip("link", "del", lab.island) })
	must(ip("link", "set", lab.island, "up"))
	for i := range n {
		ns := fmt.Sprintf("%s-%d", lab.prefix, i+1)
		veth := fmt.Sprintf("%sv%d", lab.prefix, i+1)
		if err := ip("netns", "add", ns); err != nil {
			t.Skipf("cannot make a network namespace here (%v); the loopback variant of this test covers the rest", err)
		}
		lab.cleanup = append(lab.cleanup, func() { ip("netns", "del", ns) })
		must(ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns))
		lab.cleanup = append(lab.cleanup, func() { ip("link", "del", veth) })
		must(ip("link", "set", veth, "master", lab.bridge))
		must(ip("link", "set", veth, "up"))
		addr := fmt.Sprintf("%s.%d", subnet, i+1)
		must(ip("-n", ns, "addr", "add", addr+"/24", "dev", "eth0"))
		must(ip("-n", ns, "link", "set", "eth0", "up"))
		must(ip("-n", ns, "link", "set", "lo", "up"))
		lab.hosts = append(lab.hosts, netHost{ip: addr, ns: ns})
		lab.veths = append(lab.veths, veth)
	}
	return lab
}

// cut moves the hosts onto the island bridge: they still reach each
// other, but nobody else reaches them, nor they anybody else. Packets are
// dropped, not refused, as in a real partition.
func (l *netLab) cut(hosts ...int) {
	l.t.Helper()
	for _, h := range hosts {
		if err := ip("link", "set", l.veths[h], "master", l.island); err != nil {
			l.t.Fatal(err)
		}
	}
}

// heal puts the hosts back on the main bridge.
func (l *netLab) heal(hosts ...int) {
	l.t.Helper()
	for _, h := range hosts {
		if err := ip("link", "set", l.veths[h], "master", l.bridge); err != nil {
			l.t.Fatal(err)
		}
	}
}

// canDial reports whether a TCP connection from the host (-1: the root
// namespace) to addr opens within two seconds.
func (l *netLab) canDial(from int, addr string) bool {
	host, port, _ := net.SplitHostPort(addr)
	script := fmt.Sprintf("exec 3<>/dev/tcp/%s/%s", host, port)
	cmd := exec.Command("timeout", "2", "bash", "-c", script)
	if from >= 0 {
		cmd = exec.Command("ip", "netns", "exec", l.hosts[from].ns, "timeout", "2", "bash", "-c", script)
	}
	return cmd.Run() == nil
}

func (l *netLab) close() {
	for i := len(l.cleanup) - 1; i >= 0; i-- {
		l.cleanup[i]()
	}
}
