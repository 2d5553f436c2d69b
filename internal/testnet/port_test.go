package testnet

import (
	"net"
	"strconv"
	"testing"
)

func TestChoosable(t *testing.T) {
	for _, c := range []struct {
		lo, hi      int
		first, last int
	}{
		{32768, 60999, 10000, 32767}, // Linux's default
		{49152, 65535, 10000, 49151}, // IANA's
		{1024, 60000, 60001, 65535},  // room above only
		{1024, 65000, 1, 0},          // no room: fall back
		{12000, 65535, 10000, 11999},
		{11999, 65535, 1, 0},
	} {
		got := choosable(c.lo, c.hi)
		if got != [2]int{c.first, c.last} {
			t.Errorf("choosable(%d, %d) = %v, want [%d %d]", c.lo, c.hi, got, c.first, c.last)
		}
	}
}

func TestFreePortOutsideTheEphemeralRange(t *testing.T) {
	lo, hi := ephemeralRange()
	seen := map[string]bool{}
	for range 50 {
		p := FreePort(t, "127.0.0.1")
		if seen[p] {
			t.Fatalf("port %s returned twice", p)
		}
		seen[p] = true
		n, err := strconv.Atoi(p)
		if err != nil {
			t.Fatal(err)
		}
		if r := choosable(lo, hi); r[0] <= r[1] && (n >= lo && n <= hi) {
			t.Fatalf("port %d inside the ephemeral range %d-%d", n, lo, hi)
		}
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", p))
		if err != nil {
			t.Fatalf("port %s is not free: %v", p, err)
		}
		ln.Close()
	}
}

func TestFreePortSkipsABoundPort(t *testing.T) {
	// Hold two ports of a three-port region; FreePort must return the third.
	var held []net.Listener
	defer func() {
		for _, ln := range held {
			ln.Close()
		}
	}()
	first := 0
	for p := 20000; p < 21000 && first == 0; p += 3 {
		for _, ln := range held {
			ln.Close()
		}
		held = held[:0]
		for q := p; q < p+2; q++ {
			if ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(q))); err == nil {
				held = append(held, ln)
			}
		}
		if len(held) == 2 && free("127.0.0.1", p+2) {
			first = p
		}
	}
	if first == 0 {
		t.Fatal("found no three free loopback ports in 20000-21000")
	}
	mu.Lock()
	saved, savedGiven := region, given
	region, given = [2]int{first, first + 2}, map[int]bool{}
	mu.Unlock()
	defer func() {
		mu.Lock()
		region, given = saved, savedGiven
		mu.Unlock()
	}()
	if got, want := FreePort(t, "127.0.0.1"), strconv.Itoa(first+2); got != want {
		t.Fatalf("FreePort = %s, want %s, the one port of %d-%d not held", got, want, first, first+2)
	}
}
