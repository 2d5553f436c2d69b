package server

import (
	"os"
	"testing"
	"time"
)

func TestParseStatus(t *testing.T) {
	const status = "Name:\tstoraged\nVmPeak:\t 3060008 kB\nVmHWM:\t  120344 kB\nVmRSS:\t   98304 kB\nThreads:\t12\n"
	m, err := parseStatus([]byte(status))
	if err != nil {
		t.Fatal(err)
	}
	if m.RSS != 98304<<10 || m.Peak != 120344<<10 {
		t.Fatalf("got %+v", m)
	}
	if _, err := parseStatus([]byte("Name:\tx\n")); err == nil {
		t.Fatal("a status without VmRSS parsed")
	}
}

func TestParseStat(t *testing.T) {
	// A command name with a space and a parenthesis; utime 250, stime 50.
	const stat = "1234 (my (odd) cmd) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 12 0 100 3060008 24000"
	d, err := parseStat([]byte(stat))
	if err != nil {
		t.Fatal(err)
	}
	if d != 3*time.Second {
		t.Fatalf("cpu %v, want 3s", d)
	}
	if _, err := parseStat([]byte("1234 (x) S 1")); err == nil {
		t.Fatal("a short stat parsed")
	}
}

func TestOwnProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc")
	}
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	m, err := parseStatus(b)
	if err != nil || m.RSS <= 0 || m.Peak < m.RSS {
		t.Fatalf("own status: %+v, %v", m, err)
	}
	b, err = os.ReadFile("/proc/self/stat")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parseStat(b); err != nil {
		t.Fatal(err)
	}
}
