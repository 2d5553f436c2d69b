package erasure

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/ipfs/go-cid"
)

func mustSealer(t testing.TB, seed uint64) *Sealer {
	t.Helper()
	s, err := NewSealer(bytesOf(seed, MasterKeySize))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSealOpenRoundTrip(t *testing.T) {
	s := mustSealer(t, 1)
	for _, n := range []int{0, 1, 15, 16, 17, 1000, MiB} {
		chunk := bytesOf(uint64(n), n)
		id := ChunkCID(chunk)
		sealed := s.Seal(nil, chunk, id)
		if len(sealed) != n+SealOverhead {
			t.Fatalf("%d bytes sealed to %d, want %d", n, len(sealed), n+SealOverhead)
		}
		if n >= 16 && bytes.Contains(sealed, chunk[:16]) {
			t.Fatalf("%d bytes: the sealed chunk holds the plaintext", n)
		}
		got, err := s.Open(nil, sealed, id)
		if err != nil || !bytes.Equal(got, chunk) {
			t.Fatalf("%d bytes: Open = %d bytes, %v", n, len(got), err)
		}
		// In place, both ways, as the gateway does.
		buf := make([]byte, n, n+SealOverhead)
		copy(buf, chunk)
		inPlace := s.Seal(buf[:0], buf, id)
		if !bytes.Equal(inPlace, sealed) || &inPlace[0] != &buf[:1][0] {
			t.Fatalf("%d bytes: sealing in place gave other bytes, or other memory", n)
		}
		opened, err := s.Open(inPlace[:0], inPlace, id)
		if err != nil || !bytes.Equal(opened, chunk) {
			t.Fatalf("%d bytes: opening in place: %v", n, err)
		}
		// Appending after a prefix.
		pre := []byte("prefix")
		got, err = s.Open(pre, sealed, id)
		if err != nil || !bytes.Equal(got, append([]byte("prefix"), chunk...)) {
			t.Fatalf("%d bytes: Open appending: %v", n, err)
		}
	}
}

func TestSealDeterministic(t *testing.T) {
	chunk := []byte("the same chunk, written twice by two gateways")
	id := ChunkCID(chunk)
	a, b := mustSealer(t, 1), mustSealer(t, 1)
	if !bytes.Equal(a.Seal(nil, chunk, id), b.Seal(nil, chunk, id)) {
		t.Fatal("equal chunks under equal keys seal to different bytes: deduplication breaks")
	}
	if a.Name(id) != b.Name(id) {
		t.Fatal("equal chunks under equal keys get different names")
	}
}

func TestSealDiffers(t *testing.T) {
	a, b := mustSealer(t, 1), mustSealer(t, 2)
	c1, c2 := []byte("chunk one, sixteen bytes at least"), []byte("chunk two, sixteen bytes at least")
	id1, id2 := ChunkCID(c1), ChunkCID(c2)
	if bytes.Equal(a.Seal(nil, c1, id1), b.Seal(nil, c1, id1)) {
		t.Error("one chunk seals alike under two master keys")
	}
	s1, s2 := a.Seal(nil, c1, id1), a.Seal(nil, c2, id2)
	if bytes.Equal(s1[:16], s2[:16]) {
		t.Error("two chunks seal alike under one key")
	}
	// The key is the chunk's: a sealed chunk opens under its own CID only,
	// and only under the master key that sealed it.
	if _, err := a.Open(nil, s1, id2); !errors.Is(err, ErrSealBroken) {
		t.Errorf("opened under another chunk's CID: %v", err)
	}
	if _, err := b.Open(nil, s1, id1); !errors.Is(err, ErrSealBroken) {
		t.Errorf("opened under another master key: %v", err)
	}
}

func TestOpenCatchesEveryFlip(t *testing.T) {
	s := mustSealer(t, 1)
	chunk := bytesOf(3, 100)
	id := ChunkCID(chunk)
	sealed := s.Seal(nil, chunk, id)
	for i := range sealed {
		for _, bit := range []byte{1, 0x80} {
			bad := bytes.Clone(sealed)
			bad[i] ^= bit
			if _, err := s.Open(nil, bad, id); !errors.Is(err, ErrSealBroken) {
				t.Fatalf("byte %d flipped (%#x): Open = %v, want ErrSealBroken", i, bit, err)
			}
		}
	}
	for _, short := range [][]byte{nil, sealed[:15], sealed[:len(sealed)-1]} {
		if _, err := s.Open(nil, short, id); !errors.Is(err, ErrSealBroken) {
			t.Fatalf("%d of %d bytes: Open = %v, want ErrSealBroken", len(short), len(sealed), err)
		}
	}
}

func TestNamesRevealNothing(t *testing.T) {
	a, b := mustSealer(t, 1), mustSealer(t, 2)
	chunk := ChunkCID([]byte("a known file's chunk"))
	na, nb := a.Name(chunk), b.Name(chunk)
	if na == nb {
		t.Fatal("a chunk has the same name under two master keys: a node could recognise it")
	}
	if na.Type() != ChunkNameCodec || !IsChunkName(na) || IsChunkName(chunk) {
		t.Fatalf("name %s: codec %#x, IsChunkName %v; chunk IsChunkName %v", na, na.Type(), IsChunkName(na), IsChunkName(chunk))
	}
	if na == a.Name(ChunkCID([]byte("another chunk"))) {
		t.Fatal("two chunks have one name")
	}
	if bytes.Contains(na.Bytes(), chunk.Hash()[2:]) {
		t.Fatal("the name holds the chunk's digest")
	}
	// A sealed stripe's shard names hold the keyed name, not the chunk's CID.
	for i := range 6 {
		sn, err := ShardName(na, 4, 2, i)
		if err != nil {
			t.Fatal(err)
		}
		inner, k, m, j, ok := ParseShardName(sn)
		if !ok || inner != na || inner == chunk || k != 4 || m != 2 || j != i {
			t.Fatalf("ParseShardName(shard %d) = %s %d %d %d %v, want the keyed name %s", i, inner, k, m, j, ok, na)
		}
		if bytes.Contains(sn.Bytes(), chunk.Bytes()) || bytes.Contains(sn.Bytes(), chunk.Hash()[2:]) {
			t.Fatalf("shard name %d holds the chunk's CID", i)
		}
	}
	// Verify has nothing to check a name against.
	if err := Verify(na, []byte("x")); err == nil {
		t.Fatal("Verify accepted data for a keyed name")
	}
}

func TestNewSealerRefuses(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33, 64} {
		if _, err := NewSealer(make([]byte, n)); err == nil {
			t.Errorf("NewSealer accepted a %d-byte master key", n)
		}
	}
}

func TestShardSum(t *testing.T) {
	s, other := mustSealer(t, 1), mustSealer(t, 2)
	a, b := bytesOf(1, 1000), bytesOf(1, 1000)
	got := s.ShardSum(a)
	if len(got) != ShardSumSize || got[0] != ShardSumHighway || !bytes.Equal(got, s.ShardSum(b)) {
		t.Fatalf("ShardSum: %x (%d bytes), not a function of the bytes", got, len(got))
	}
	if bytes.Equal(got, other.ShardSum(a)) {
		t.Fatal("two master keys give the same sum: the sum is not keyed")
	}
	if err := s.CheckShardSum(got, b); err != nil {
		t.Fatalf("CheckShardSum of the shard's own sum: %v", err)
	}
	b[500] ^= 1
	if bytes.Equal(got, s.ShardSum(b)) {
		t.Fatal("a flipped bit leaves the sum unchanged")
	}
	if err := s.CheckShardSum(got, b); !errors.Is(err, ErrShardSumMismatch) {
		t.Fatalf("CheckShardSum of a flipped bit: %v, want ErrShardSumMismatch", err)
	}
	// The stored format: HighwayHash-128 of "abc" under the sum key of
	// master key 00 01 ... 1f, after the kind byte.
	master := make([]byte, MasterKeySize)
	for i := range master {
		master[i] = byte(i)
	}
	fixed, err := NewSealer(master)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := hex.EncodeToString(fixed.ShardSum([]byte("abc"))), shardSumABC; got != want {
		t.Fatalf("ShardSum(abc) = %s, want %s", got, want)
	}
}

// shardSumABC is Sealer.ShardSum("abc") under master key 00 01 ... 1f.
const shardSumABC = "01de43c29206a65b3d709b0ed6687f34f9"

// Stripes sealed before keyed sums record 16-byte BLAKE3 sums: they are
// still checked, with or without the key; a keyed sum without the key, or
// a sum of an unknown kind, is ErrShardSumUnknown, not a mismatch.
func TestShardSumBLAKE3(t *testing.T) {
	// BLAKE3 of "abc", truncated: the published test vector's first half.
	if got, want := ShardSumBLAKE3([]byte("abc")), "6437b3ac38465133ffb63b75273a8db5"; hex.EncodeToString(got) != want {
		t.Fatalf("ShardSumBLAKE3(abc) = %s, want %s", hex.EncodeToString(got), want)
	}
	s := mustSealer(t, 1)
	shard := bytesOf(4, 5000)
	old := ShardSumBLAKE3(shard)
	for _, sealer := range []*Sealer{s, nil} {
		if err := sealer.CheckShardSum(old, shard); err != nil || !sealer.CanCheckShardSum(old) {
			t.Fatalf("a BLAKE3 sum (sealer %v): %v", sealer != nil, err)
		}
		bad := bytes.Clone(shard)
		bad[0] ^= 1
		if err := sealer.CheckShardSum(old, bad); !errors.Is(err, ErrShardSumMismatch) {
			t.Fatalf("a BLAKE3 sum of other bytes (sealer %v): %v, want ErrShardSumMismatch", sealer != nil, err)
		}
	}
	var none *Sealer
	keyed := s.ShardSum(shard)
	if err := none.CheckShardSum(keyed, shard); !errors.Is(err, ErrShardSumUnknown) || none.CanCheckShardSum(keyed) {
		t.Fatalf("a keyed sum without the key: %v, want ErrShardSumUnknown", err)
	}
	for _, sum := range [][]byte{nil, {}, append([]byte{9}, keyed[1:]...), keyed[:10], append(bytes.Clone(keyed), 0)} {
		if err := s.CheckShardSum(sum, shard); !errors.Is(err, ErrShardSumUnknown) || s.CanCheckShardSum(sum) {
			t.Fatalf("sum %x: %v, want ErrShardSumUnknown", sum, err)
		}
	}
}

// The sealing primitives are safe for concurrent use.
func TestSealerConcurrent(t *testing.T) {
	s := mustSealer(t, 1)
	chunk := bytesOf(5, 4096)
	id := ChunkCID(chunk)
	want, wantName := s.Seal(nil, chunk, id), s.Name(id)
	done := make(chan error, 8)
	for range 8 {
		go func() {
			for range 50 {
				got := s.Seal(nil, chunk, id)
				if !bytes.Equal(got, want) {
					done <- errors.New("concurrent seals differ")
					return
				}
				if _, err := s.Open(nil, got, id); err != nil {
					done <- err
					return
				}
				if s.Name(id) != wantName {
					done <- errors.New("concurrent names differ")
					return
				}
			}
			done <- nil
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

func TestForCustomer(t *testing.T) {
	s := mustSealer(t, 1)
	k1, k2 := bytes.Repeat([]byte{1}, CustomerKeySize), bytes.Repeat([]byte{2}, CustomerKeySize)
	c1, err := s.ForCustomer(k1)
	if err != nil {
		t.Fatal(err)
	}
	c1again, _ := s.ForCustomer(k1)
	c2, _ := s.ForCustomer(k2)
	other, _ := mustSealer(t, 2).ForCustomer(k1)
	chunk := []byte("a chunk a customer encrypts")
	id := ChunkCID(chunk)
	name := c1.Name(id)
	if !name.Equals(c1again.Name(id)) {
		t.Fatal("a customer sealer's names are not deterministic")
	}
	for _, n := range []cid.Cid{s.Name(id), c2.Name(id), other.Name(id)} {
		if n.Equals(name) {
			t.Fatal("a chunk's name under one customer key equals its name under another key")
		}
	}
	sealed := c1.Seal(nil, chunk, name)
	if bytes.Contains(sealed, chunk[:8]) {
		t.Fatal("the sealed chunk holds its plaintext")
	}
	if got, err := c1again.Open(nil, sealed, name); err != nil || !bytes.Equal(got, chunk) {
		t.Fatalf("open with the same keys: %q %v", got, err)
	}
	for _, wrong := range []*Sealer{s, c2, other} {
		if _, err := wrong.Open(nil, sealed, name); !errors.Is(err, ErrSealBroken) {
			t.Fatalf("open with another key: %v, want ErrSealBroken", err)
		}
	}
	// Healing and audits check a customer-sealed stripe's shard sums with
	// the tenant's sealer: the sums must not depend on the customer's key.
	shard := sealed[:len(sealed)/2]
	if err := s.CheckShardSum(c1.ShardSum(shard), shard); err != nil {
		t.Fatalf("the tenant's sealer cannot check a customer sealer's shard sum: %v", err)
	}
	if err := s.CheckShardSum(c1.ShardSum(shard), shard[1:]); !errors.Is(err, ErrShardSumMismatch) {
		t.Fatalf("other bytes against a customer sealer's sum: %v, want ErrShardSumMismatch", err)
	}
	if _, err := s.ForCustomer(k1[:31]); err == nil {
		t.Fatal("a 31-byte customer key was accepted")
	}
}
