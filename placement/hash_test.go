package placement

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The reference vectors of the SipHash paper: key 00..0f, messages
// 00, 00 01, 00 01 02, ... of length 0 to 15.
var sipVectors = []uint64{
	0x726fdb47dd0e0e31, 0x74f839c593dc67fd, 0x0d6c8009d9a94f5a, 0x85676696d7fb7e2d,
	0xcf2794e0277187b7, 0x18765564cd99a68d, 0xcbc9466e58fee3ce, 0xab0200f58b01d137,
	0x93f5f5799a932462, 0x9e0082df0ba9e4b0, 0x7a5dbbc594ddb9f3, 0xf4b32f46226bada7,
	0x751e8fbc860ee5fb, 0x14ea5627c0843d90, 0xf723ca908e7af2ee, 0xa129ca6149be45e5,
}

func TestSipHashVectors(t *testing.T) {
	const k0, k1 = 0x0706050403020100, 0x0f0e0d0c0b0a0908
	msg := make([]byte, len(sipVectors))
	for i := range msg {
		msg[i] = byte(i)
	}
	for n, want := range sipVectors {
		if got := siphash(k0, k1, msg[:n]); got != want {
			t.Errorf("SipHash-2-4 of %d bytes = %#016x, want %#016x", n, got, want)
		}
	}
}

// TestStripeHash checks the fast path (node prefix absorbed once, stripe
// split once) against SipHash of the whole message.
func TestStripeHash(t *testing.T) {
	k0, k1 := sipKey([]byte("k"), nodeDomain)
	rng := rand.New(rand.NewPCG(7, 8))
	for range 500 {
		id := make([]byte, rng.IntN(40))
		for i := range id {
			id[i] = byte(rng.Uint32())
		}
		stripe := make([]byte, rng.IntN(120))
		for i := range stripe {
			stripe[i] = byte(rng.Uint32())
		}
		msg := make([]byte, 8)
		msg[0] = byte(len(id))
		msg = append(msg, id...)
		for len(msg)%8 != 0 {
			msg = append(msg, 0)
		}
		msg = append(msg, stripe...)
		want := siphash(k0, k1, msg)
		var m stripeMsg
		m.init(stripe)
		p := nodePrefix(k0, k1, string(id))
		if got := m.hash(&p); got != want {
			t.Fatalf("id %d bytes, stripe %d bytes: %#x, want %#x", len(id), len(stripe), got, want)
		}
	}
}

func TestLn(t *testing.T) {
	// Golden bits: ln must give these on every platform (they are also
	// what math.Log gives on amd64).
	golden := []struct {
		x    float64
		bits uint64
	}{
		{0.5, 0xbfe62e42fefa39ef},
		{0x1p-53, 0xc0425e4f7b2737fa},
		{0.999999, 0xbeb0c6f82d74d230},
		{1 - 0x1p-53, 0xbca0000000000000},
		{0.1, 0xc0026bb1bbb55515},
	}
	for _, g := range golden {
		if got := math.Float64bits(ln(g.x)); got != g.bits {
			t.Errorf("ln(%v) bits %#x, want %#x", g.x, got, g.bits)
		}
	}
	// Within an ulp of math.Log across the range placement uses.
	rng := rand.New(rand.NewPCG(9, 10))
	for range 200_000 {
		x := unit(rng.Uint64())
		if rng.IntN(4) == 0 {
			x = math.Ldexp(x, -rng.IntN(60))
		}
		got, want := ln(x), math.Log(x)
		if ulp := math.Abs(math.Nextafter(want, 0) - want); math.Abs(got-want) > ulp {
			t.Fatalf("ln(%v) = %v, math.Log %v", x, got, want)
		}
	}
}

func TestUnit(t *testing.T) {
	for _, x := range []uint64{0, 1, 1 << 12, math.MaxUint64} {
		u := unit(x)
		if !(u > 0 && u < 1) {
			t.Errorf("unit(%#x) = %v, not in (0, 1)", x, u)
		}
	}
	if unit(0) != 0x1p-53 || unit(math.MaxUint64) != 1-0x1p-53 {
		t.Errorf("ends: %v %v", unit(0), unit(math.MaxUint64))
	}
}
