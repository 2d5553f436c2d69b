package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Netns is a network namespace of the benchmark's own, reached from the
// root namespace through a veth pair: HostIP on the root side, IP inside
// (on its eth0). Both ends have loopback's MTU (the largest a veth takes),
// so a TCP stream through the pair differs from one over loopback only by
// the hop between the two devices.
//
// A process of the benchmark's (sleep) holds the namespace, with
// PR_SET_PDEATHSIG: when Close ends it, or the benchmark dies, the kernel
// removes the namespace and the veth pair with the last process in it.
// Nothing is named in /run/netns, so nothing is left behind.
type Netns struct {
	// HostIP is the root side's address, IP the namespace's.
	HostIP, IP string

	holder *exec.Cmd
	veth   string // the root side's link
}

// subnetBase is the first two octets of the /24 a Netns takes, chosen
// apart from the integration tests' (10.213.x).
const subnetBase = "10.214"

// NewNetns makes a network namespace with a veth pair to it, on a /24 of
// 10.214.0.0/16 that no interface of the root namespace has. It needs
// root (CAP_SYS_ADMIN and CAP_NET_ADMIN) and ip(8); the caller must Close
// it.
func NewNetns(ctx context.Context) (*Netns, error) {
	if _, err := exec.LookPath("ip"); err != nil {
		return nil, fmt.Errorf("netns: no ip command (iproute2): %w", err)
	}
	subnet, err := freeSubnet(os.Getpid())
	if err != nil {
		return nil, err
	}
	holder := exec.Command("sleep", "infinity")
	holder.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET, Pdeathsig: syscall.SIGKILL}
	if err := holder.Start(); err != nil {
		return nil, fmt.Errorf("netns: a process in a new network namespace (needs root): %w", err)
	}
	go holder.Wait() // reaped whenever it ends
	n := &Netns{
		HostIP: subnet + ".1",
		IP:     subnet + ".2",
		holder: holder,
		veth:   fmt.Sprintf("cbv%d", os.Getpid()%10000000),
	}
	pid := fmt.Sprint(holder.Process.Pid)
	steps := [][]string{
		{"ip", "link", "add", n.veth, "type", "veth", "peer", "name", "eth0", "netns", pid},
		{"ip", "link", "set", n.veth, "mtu", "65535"},
		{"ip", "addr", "add", n.HostIP + "/24", "dev", n.veth},
		{"ip", "link", "set", n.veth, "up"},
	}
	for _, inside := range [][]string{
		{"ip", "link", "set", "lo", "up"},
		{"ip", "link", "set", "eth0", "mtu", "65535"},
		{"ip", "addr", "add", n.IP + "/24", "dev", "eth0"},
		{"ip", "link", "set", "eth0", "up"},
	} {
		steps = append(steps, append([]string{"nsenter", "--net=" + n.nsPath(), "--"}, inside...))
	}
	for _, s := range steps {
		if err := run(ctx, s...); err != nil {
			n.Close()
			return nil, fmt.Errorf("netns: %w", err)
		}
	}
	return n, nil
}

// freeSubnet returns the first three octets of a /24 in 10.214.0.0/16,
// starting from one that seed chooses, that no address of the root
// namespace is in.
func freeSubnet(seed int) (string, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return "", err
	}
	for i := range 250 {
		subnet := fmt.Sprintf("%s.%d", subnetBase, (seed+i)%250+1)
		gw := net.ParseIP(subnet + ".1")
		taken := false
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && (ipn.Contains(gw) || strings.HasPrefix(ipn.IP.String(), subnet+".")) {
				taken = true
			}
		}
		if !taken {
			return subnet, nil
		}
	}
	return "", fmt.Errorf("netns: every /24 of %s.0.0/16 is taken here", subnetBase)
}

// nsPath is the namespace's handle in /proc.
func (n *Netns) nsPath() string {
	return fmt.Sprintf("/proc/%d/ns/net", n.holder.Process.Pid)
}

// Command returns a command that runs name in the namespace: nsenter
// enters it and executes name in its own place, so the process's PID is
// the command's, and it keeps the parent-death signal start gives it.
func (n *Netns) Command(name string, args ...string) *exec.Cmd {
	return exec.Command("nsenter", append([]string{"--net=" + n.nsPath(), "--", name}, args...)...)
}

// Listen listens on addr inside the namespace, from this process: the
// socket is made on a thread that enters the namespace for the call and
// leaves it again (a socket stays in the namespace it was made in).
func (n *Netns) Listen(network, addr string) (net.Listener, error) {
	type result struct {
		l   net.Listener
		err error
	}
	got := make(chan result, 1)
	go func() {
		// A goroutine of its own, locked to its thread: should the thread
		// fail to return to its namespace, it stays locked, and Go ends
		// the thread with the goroutine instead of running others on it.
		runtime.LockOSThread()
		l, err := n.listenLocked(network, addr)
		if !errors.Is(err, errStuck) {
			runtime.UnlockOSThread()
		}
		got <- result{l, err}
	}()
	r := <-got
	return r.l, r.err
}

// errStuck is listenLocked's error when its thread could not go back to
// its own network namespace.
var errStuck = errors.New("netns: the thread cannot return to its namespace")

// listenLocked is Listen on a locked thread.
func (n *Netns) listenLocked(network, addr string) (net.Listener, error) {
	back, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		return nil, err
	}
	defer back.Close()
	target, err := os.Open(n.nsPath())
	if err != nil {
		return nil, err
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		return nil, fmt.Errorf("netns: enter: %w", err)
	}
	l, lerr := net.Listen(network, addr)
	if err := unix.Setns(int(back.Fd()), unix.CLONE_NEWNET); err != nil {
		if l != nil {
			l.Close()
		}
		return nil, fmt.Errorf("%w: %w", errStuck, err)
	}
	return l, lerr
}

// Close ends the holder and deletes the veth pair; the namespace goes
// when its last process has exited.
func (n *Netns) Close() error {
	if n.holder != nil && n.holder.Process != nil {
		n.holder.Process.Kill()
	}
	// Gone already with the namespace, unless a process still in it
	// keeps it: deleting one end deletes both.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := exec.CommandContext(ctx, "ip", "link", "show", n.veth).Run(); err == nil {
		return run(ctx, "ip", "link", "del", n.veth)
	}
	return nil
}

// run runs a command, with its output in the error when it fails.
func run(ctx context.Context, args ...string) error {
	out, err := exec.CommandContext(ctx, args[0], args[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
