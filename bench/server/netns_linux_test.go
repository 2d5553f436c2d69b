package server

import (
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// A Netns is reached from here through its veth pair, and leaves no link
// behind.
func TestNetns(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("network namespaces need root")
	}
	if _, err := exec.LookPath("nsenter"); err != nil {
		t.Skip("no nsenter")
	}
	ns, err := NewNetns(context.Background())
	if err != nil {
		t.Skipf("cannot make a network namespace here: %v", err)
	}
	defer ns.Close()
	l, err := ns.Listen("tcp", net.JoinHostPort(ns.IP, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err == nil {
			c.Write([]byte("inside"))
			c.Close()
		}
	}()
	c, err := net.DialTimeout("tcp", l.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(c)
	c.Close()
	if err != nil || string(got) != "inside" {
		t.Fatalf("read %q, %v", got, err)
	}
	// The premise: the listener is not in this namespace.
	if _, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", portOf(l)), time.Second); err == nil {
		t.Fatal("the namespace's listener answers on this namespace's loopback")
	}
	// A command runs inside.
	out, err := ns.Command("ip", "-4", "-o", "addr", "show", "dev", "eth0").CombinedOutput()
	if err != nil || !strings.Contains(string(out), ns.IP+"/24") {
		t.Fatalf("ip addr inside: %v: %s", err, out)
	}
	veth := ns.veth
	if err := ns.Close(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for exec.Command("ip", "link", "show", veth).Run() == nil {
		if time.Now().After(deadline) {
			t.Fatalf("link %s still there after Close", veth)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func portOf(l net.Listener) string {
	_, p, _ := net.SplitHostPort(l.Addr().String())
	return p
}
