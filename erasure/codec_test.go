package erasure

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
)

func mustCodec(t testing.TB, k, m int, opts ...Option) *Codec {
	t.Helper()
	c, err := NewCodec(k, m, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestNewCodecValidates(t *testing.T) {
	tests := []struct {
		k, m int
		ok   bool
	}{
		{1, 0, true}, {1, 1, true}, {4, 2, true}, {8, 4, true}, {10, 6, true},
		{128, 128, true}, {256, 0, true}, {255, 1, true},
		{0, 0, false}, {0, 2, false}, {-1, 2, false}, {4, -1, false},
		{255, 2, false}, {257, 0, false}, {200, 100, false},
	}
	for _, tc := range tests {
		c, err := NewCodec(tc.k, tc.m)
		if (err == nil) != tc.ok {
			t.Errorf("NewCodec(%d, %d): error %v, want ok=%v", tc.k, tc.m, err, tc.ok)
			continue
		}
		if tc.ok && (c.K() != tc.k || c.M() != tc.m) {
			t.Errorf("NewCodec(%d, %d) has K=%d M=%d", tc.k, tc.m, c.K(), c.M())
		}
	}
	for _, opts := range [][]Option{
		{WithConcurrency(1)}, {WithConcurrency(8)}, {WithChunkSize(DefaultChunkSize)},
		{WithConcurrency(0), WithChunkSize(-1)}, {WithChunkSize(MiB), WithConcurrency(2)},
	} {
		mustCodec(t, 4, 2, opts...)
	}
}

func TestShardSize(t *testing.T) {
	c := mustCodec(t, 4, 2)
	for _, tc := range []struct{ chunk, want int }{
		{-1, 0}, {0, 0}, {1, 1}, {3, 1}, {4, 1}, {5, 2}, {8, 2}, {MiB, MiB / 4}, {MiB + 1, MiB/4 + 1},
	} {
		if got := c.ShardSize(tc.chunk); got != tc.want {
			t.Errorf("4+2 ShardSize(%d) = %d, want %d", tc.chunk, got, tc.want)
		}
	}
}

// subsets calls f with every subset of {0..n-1} of exactly size elements.
func subsets(n, size int, f func([]int)) {
	var rec func(start int, cur []int)
	rec = func(start int, cur []int) {
		if len(cur) == size {
			f(cur)
			return
		}
		for i := start; i < n; i++ {
			rec(i+1, append(cur, i))
		}
	}
	rec(0, nil)
}

// withMissing returns a deep copy of shards with the listed ones missing:
// nil for even positions in missing, zero-length with capacity (to be
// filled in place) for odd ones.
func withMissing(shards [][]byte, missing []int) [][]byte {
	out := make([][]byte, len(shards))
	for i, s := range shards {
		out[i] = append([]byte(nil), s...)
	}
	for j, i := range missing {
		if j%2 == 0 {
			out[i] = nil
		} else {
			out[i] = out[i][:0]
		}
	}
	return out
}

func TestEncodeReconstructEverySubset(t *testing.T) {
	for _, code := range []struct{ k, m int }{{4, 2}, {8, 4}} {
		c := mustCodec(t, code.k, code.m)
		for _, n := range []int{1, code.k - 1, code.k, code.k + 1, 1000, 4096 + 3} {
			chunk := bytesOf(uint64(n), n)
			shards, err := c.Encode(chunk, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(shards) != code.k+code.m {
				t.Fatalf("%d+%d: %d shards", code.k, code.m, len(shards))
			}
			padded := make([]byte, code.k*c.ShardSize(n))
			copy(padded, chunk)
			if got := bytes.Join(shards[:code.k], nil); !bytes.Equal(got, padded) {
				t.Fatalf("%d+%d/%d: data shards are not the zero-padded chunk", code.k, code.m, n)
			}
			for lost := 0; lost <= code.m; lost++ {
				subsets(code.k+code.m, lost, func(missing []int) {
					name := fmt.Sprintf("%d+%d/len %d/missing %v", code.k, code.m, n, missing)
					checkReconstruct(t, name, c, chunk, shards, missing)
				})
			}
		}
	}
}

func checkReconstruct(t *testing.T, name string, c *Codec, chunk []byte, shards [][]byte, missing []int) {
	t.Helper()
	k := c.K()

	got := withMissing(shards, missing)
	if err := c.ReconstructData(got); err != nil {
		t.Fatalf("%s: ReconstructData: %v", name, err)
	}
	for i := range shards {
		switch {
		case i < k && !bytes.Equal(got[i], shards[i]):
			t.Fatalf("%s: ReconstructData: data shard %d differs", name, i)
		case i >= k && len(got[i]) != 0 && !bytes.Equal(got[i], shards[i]):
			t.Fatalf("%s: ReconstructData changed parity shard %d", name, i)
		}
	}
	joined, err := c.Join([]byte("prefix"), got, len(chunk))
	if err != nil || !bytes.Equal(joined, append([]byte("prefix"), chunk...)) {
		t.Fatalf("%s: Join after ReconstructData: %v", name, err)
	}

	got = withMissing(shards, missing)
	if err := c.Reconstruct(got); err != nil {
		t.Fatalf("%s: Reconstruct: %v", name, err)
	}
	for i := range shards {
		if !bytes.Equal(got[i], shards[i]) {
			t.Fatalf("%s: Reconstruct: shard %d differs", name, i)
		}
	}
}

func TestReconstructTooFewShards(t *testing.T) {
	for _, code := range []struct{ k, m int }{{4, 2}, {8, 4}, {3, 0}} {
		c := mustCodec(t, code.k, code.m)
		shards, err := c.Encode(bytesOf(1, 999), nil)
		if err != nil {
			t.Fatal(err)
		}
		subsets(code.k+code.m, code.m+1, func(missing []int) {
			for _, rebuild := range []func([][]byte) error{c.ReconstructData, c.Reconstruct} {
				got := withMissing(shards, missing)
				err := rebuild(got)
				if !errors.Is(err, ErrTooFewShards) {
					t.Fatalf("%d+%d missing %v: %v, want ErrTooFewShards", code.k, code.m, missing, err)
				}
				for _, i := range missing {
					if len(got[i]) != 0 {
						t.Fatalf("%d+%d missing %v: shard %d filled in despite the error", code.k, code.m, missing, i)
					}
				}
			}
		})
	}
}

func TestReconstructRejectsBadInput(t *testing.T) {
	c := mustCodec(t, 4, 2)
	shards, err := c.Encode(bytesOf(2, 100), nil)
	if err != nil {
		t.Fatal(err)
	}
	uneven := withMissing(shards, []int{0})
	uneven[5] = uneven[5][:10]
	for name, in := range map[string][][]byte{
		"too few entries":  shards[:5],
		"too many entries": append(withMissing(shards, nil), nil),
		"uneven lengths":   uneven,
	} {
		if err := c.ReconstructData(in); err == nil || errors.Is(err, ErrTooFewShards) {
			t.Errorf("%s: ReconstructData: %v, want a plain error", name, err)
		}
	}
	// Nothing missing: nothing to do, no error.
	if err := c.ReconstructData(withMissing(shards, nil)); err != nil {
		t.Errorf("ReconstructData with every shard: %v", err)
	}
}

func TestEncodeReusesBuffers(t *testing.T) {
	c := mustCodec(t, 4, 2)
	chunk := bytesOf(3, 1001) // 251-byte shards, 3 bytes of padding
	bufs := make([][]byte, 6)
	for i := range bufs {
		bufs[i] = bytes.Repeat([]byte{0xff}, 300) // garbage to be overwritten
	}
	shards, err := c.Encode(chunk, bufs)
	if err != nil {
		t.Fatal(err)
	}
	if &shards[0] != &bufs[0] {
		t.Error("Encode did not return the caller's slice")
	}
	for i, s := range shards {
		if len(s) != 251 || &s[0] != &bufs[i][0] {
			t.Errorf("shard %d: len %d, own buffer %v", i, len(s), &s[0] == &bufs[i][0])
		}
	}
	fresh, err := c.Encode(chunk, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range fresh {
		if !bytes.Equal(fresh[i], shards[i]) {
			t.Fatalf("shard %d differs between reused and fresh buffers (padding not zeroed?)", i)
		}
	}

	// Too small buffers and a short outer slice are replaced and extended.
	small := [][]byte{make([]byte, 10), make([]byte, 0, 251)}
	mixed, err := c.Encode(chunk, small)
	if err != nil {
		t.Fatal(err)
	}
	if len(mixed) != 6 || &mixed[1][0] != &small[1][:1][0] {
		t.Fatalf("short outer slice: got %d shards, reused big buffer: %v", len(mixed), &mixed[1][0] == &small[1][:1][0])
	}
	for i := range fresh {
		if !bytes.Equal(fresh[i], mixed[i]) {
			t.Fatalf("shard %d differs with mixed buffers", i)
		}
	}

	if _, err := c.Encode(chunk, make([][]byte, 7)); err == nil {
		t.Error("Encode with 7 buffers for 4+2: no error")
	}
	if _, err := c.Encode(nil, nil); err == nil {
		t.Error("Encode(empty chunk): no error")
	}
}

// TestEncodeInPlace checks that the data shards alias the chunk's buffer
// when it has room for the padding, that the shards equal Encode's either
// way, and that parity buffers are reused.
func TestEncodeInPlace(t *testing.T) {
	c := mustCodec(t, 4, 2)
	for _, size := range []int{1, 3, 1000, 1001, 1024} {
		chunk := bytesOf(5, size)
		want, err := c.Encode(chunk, nil)
		if err != nil {
			t.Fatal(err)
		}
		n := c.ShardSize(size)

		// Room for the padding: no copy, padding zeroed over garbage.
		buf := bytes.Repeat([]byte{0xee}, 4*n)
		copy(buf, chunk)
		parity := [][]byte{make([]byte, 0, n), make([]byte, n+7)}
		got, err := c.EncodeInPlace(buf[:size], parity)
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("size %d: shard %d differs from Encode's", size, i)
			}
		}
		for i := range 4 {
			if &got[i][0] != &buf[i*n] || cap(got[i]) != n {
				t.Errorf("size %d: data shard %d does not alias the chunk (cap %d)", size, i, cap(got[i]))
			}
		}
		if &got[4][0] != &parity[0][:1][0] || &got[5][0] != &parity[1][0] {
			t.Errorf("size %d: parity buffers not reused", size)
		}

		// No room: copied, the chunk's buffer untouched past its length.
		tight := append(make([]byte, 0, size), chunk...)
		got, err = c.EncodeInPlace(tight, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("size %d, tight: shard %d differs from Encode's", size, i)
			}
		}
		if size%4 != 0 && &got[0][0] == &tight[0] {
			t.Errorf("size %d, tight: data shard 0 aliases a chunk with no room for padding", size)
		}
	}
	if _, err := c.EncodeInPlace(nil, nil); err == nil {
		t.Error("EncodeInPlace(empty chunk): no error")
	}
	if _, err := c.EncodeInPlace([]byte("x"), make([][]byte, 3)); err == nil {
		t.Error("EncodeInPlace with 3 parity buffers for 4+2: no error")
	}
}

func TestJoin(t *testing.T) {
	c := mustCodec(t, 4, 2)
	chunk := bytesOf(4, 10) // 3-byte shards
	shards, err := c.Encode(chunk, nil)
	if err != nil {
		t.Fatal(err)
	}
	for size := 0; size <= 12; size++ {
		got, err := c.Join(nil, shards[:4], size) // data shards alone suffice
		if err != nil {
			t.Fatalf("Join(size %d): %v", size, err)
		}
		want := append(append([]byte(nil), chunk...), 0, 0)[:size]
		if !bytes.Equal(got, want) {
			t.Fatalf("Join(size %d) = %x, want %x", size, got, want)
		}
	}
	missing := withMissing(shards, []int{2})
	bad := map[string]struct {
		shards [][]byte
		size   int
	}{
		"size past the data":  {shards, 13},
		"negative size":       {shards, -1},
		"missing data shard":  {missing, 10},
		"fewer than k shards": {shards[:3], 9},
		"uneven data shards":  {[][]byte{{1, 2, 3}, {4, 5, 6}, {7, 8}, {9, 10, 11}}, 10},
	}
	for name, tc := range bad {
		dst := []byte("keep")
		got, err := c.Join(dst, tc.shards, tc.size)
		if err == nil || string(got) != "keep" {
			t.Errorf("%s: Join = %q, %v; want an error and dst unchanged", name, got, err)
		}
	}
}

// TestParityIsStable pins the shards of a fixed chunk: parity is stored and
// content-addressed, so a change of coding matrix (a reedsolomon upgrade,
// an option) would break every stored stripe.
func TestParityIsStable(t *testing.T) {
	chunk := bytesOf(2026, 100_000)
	want := map[string][]string{
		"4+2": goldenShards42,
		"8+4": goldenShards84,
	}
	options := map[string][]Option{
		"default":       nil,
		"1 goroutine":   {WithConcurrency(1)},
		"16 goroutines": {WithConcurrency(16)},
		"chunk size":    {WithChunkSize(len(chunk))},
	}
	for name, code := range map[string][2]int{"4+2": {4, 2}, "8+4": {8, 4}} {
		for optName, opts := range options {
			shards, err := mustCodec(t, code[0], code[1], opts...).Encode(chunk, nil)
			if err != nil {
				t.Fatal(err)
			}
			for i, s := range shards {
				// sha2-256 of each shard: the goldens pin the bytes, not
				// the shard CID's hash function.
				if got := ChunkCID(s).String(); got != want[name][i] {
					t.Errorf("%s, %s: shard %d is %s, want %s", name, optName, i, got, want[name][i])
				}
			}
		}
	}
}

var goldenShards42 = []string{
	"bafkreiazonb464wevtb5vpigw76gukfqn3s7sqrohkyblurcgrhtogzdim",
	"bafkreidnovvzsld3zs6bzf7uophlldpa4b6vqzbract66i2zuei7qn7wpq",
	"bafkreiau2idqlnugo5lzu5bdcnwemtnccmde2ujbx7rndlfei5sw3m6esa",
	"bafkreibx5uhq464jweia5bql7jqrqj3apkokk4jq6bbmkw4thbr36hkcge",
	"bafkreigzqv5opu4wzc7756dsl5vtdidda5vgvhdzqpp542ghrrojtbyb4a",
	"bafkreigjh4qgawg4b6jchbjnecr7bemrv362fvvho5w7mfas5gp2yfilfy",
}

var goldenShards84 = []string{
	"bafkreigjc46gptmy4x5zebgjhgzgmz5j2phna64j43in4frcv34bqnnyci",
	"bafkreibygpz6hniohfcp6fy6gijts2oymeqpidzpzc7x72qahj7fqe3umy",
	"bafkreibd2nlwbswme4exworyrz6qf5tyzpejsq5ulumztbcetne3itysqq",
	"bafkreidyr5c5ug3r5qu4y5k7u7uz3wtg6tamvosejurvbzq7sje3g73vze",
	"bafkreicse3xjl3uhw2c6uysdc4zgo7yypi5y2nmlfmy23boi4f6hnqtwbe",
	"bafkreig33uwhwej5xyxnzhr6cazncg3l4y6gautt4mxqiiqf26aekkunu4",
	"bafkreif3qytys2k7elkbpqutn4tfk4js6hwv7lhy42angkxovylxfwweke",
	"bafkreiast2mjghca4cr76vetyzlvj6dzx4yzx5bblylkageircolvdtdpe",
	"bafkreicf4nobaflzgsdlokk7a7yktbf2cvln736nlieqa4rw2tw3ej6cl4",
	"bafkreig3jft4ca5qyh7ilc6z54nxyi6ocj5emmzu5unpv77hkocngggxzm",
	"bafkreiaybbz345mqehbedvklvze7nop4jmpmdp3k2zbuk7aww4mg5ysrf4",
	"bafkreicggnfdpztu7f4bhchdm4nxxxzguealz6aejbbmqastyf3rwlsjqi",
}

func TestCodecConcurrentUse(t *testing.T) {
	c := mustCodec(t, 4, 2)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			chunk := bytesOf(uint64(g), 64<<10+g)
			var bufs [][]byte
			for i := range 20 {
				shards, err := c.Encode(chunk, bufs)
				if err != nil {
					errs <- err
					return
				}
				bufs = shards
				lost := withMissing(shards, []int{i % 6, (i + 1) % 6})
				if err := c.ReconstructData(lost); err != nil {
					errs <- err
					return
				}
				joined, err := c.Join(nil, lost, len(chunk))
				if err != nil || !bytes.Equal(joined, chunk) {
					errs <- fmt.Errorf("goroutine %d round %d: join mismatch (%v)", g, i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
