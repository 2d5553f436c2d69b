package erasure

import (
	"crypto/sha256"
	"errors"
	"strings"
	"testing"

	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"
)

// sha256CID builds a CID the long way, through go-multihash's own encoder.
func sha256CID(t *testing.T, codec uint64, digestLen int, data []byte) cid.Cid {
	t.Helper()
	sum := sha256.Sum256(data)
	mh, err := multihash.Encode(sum[:digestLen], multihash.SHA2_256)
	if err != nil {
		t.Fatal(err)
	}
	return cid.NewCidV1(codec, mh)
}

func TestChunkCIDKnownAnswers(t *testing.T) {
	tests := []struct {
		data string
		want string
	}{
		{"", "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"},
		{"hello world", "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"},
	}
	for _, tc := range tests {
		got := ChunkCID([]byte(tc.data))
		if got.String() != tc.want {
			t.Errorf("ChunkCID(%q) = %s, want %s", tc.data, got, tc.want)
		}
		if got != sha256CID(t, cid.Raw, sha256.Size, []byte(tc.data)) {
			t.Errorf("ChunkCID(%q) differs from go-multihash's encoding", tc.data)
		}
		p := got.Prefix()
		if p.Version != 1 || p.Codec != cid.Raw || p.MhType != multihash.SHA2_256 || p.MhLength != 32 {
			t.Errorf("ChunkCID(%q) prefix %+v, want v1 raw sha2-256/32", tc.data, p)
		}
	}
}

// TestShardCID checks ShardCID against go-multihash's own blake3 (another
// implementation, lukechampine.com/blake3), on sizes either side of
// BLAKE3's 1 KiB chunks and of the SIMD paths' batch sizes.
func TestShardCID(t *testing.T) {
	for _, n := range []int{0, 1, 1023, 1024, 1025, 4096, 8192 + 3, 256 << 10} {
		data := bytesOf(7, n)
		mh, err := multihash.Sum(data, multihash.BLAKE3, 32)
		if err != nil {
			t.Fatal(err)
		}
		want := cid.NewCidV1(cid.Raw, mh)
		if got := ShardCID(data); got != want {
			t.Errorf("ShardCID(%d bytes) = %s, want %s", n, got, want)
		}
		if err := Verify(want, data); err != nil {
			t.Errorf("Verify(ShardCID(%d bytes)): %v", n, err)
		}
	}
	// The BLAKE3 paper's test vector for the empty input.
	if got, want := ShardCID(nil).Hash().HexString(), "1e20af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"; got != want {
		t.Errorf("ShardCID(nil) multihash = %s, want %s", got, want)
	}
}

func TestVerify(t *testing.T) {
	data := bytesOf(9, 1000)
	other := append([]byte(nil), data...)
	other[500] ^= 1
	sha512mh, err := multihash.Sum(data, multihash.SHA2_512, -1)
	if err != nil {
		t.Fatal(err)
	}
	identity, err := multihash.Sum(data[:10], multihash.IDENTITY, -1)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	v0mh, _ := multihash.Encode(sum[:], multihash.SHA2_256)
	b3 := ShardCID(data).Hash()
	b3short, _ := multihash.Encode(b3[2:18], multihash.BLAKE3)
	b3long, _ := multihash.Sum(data, multihash.BLAKE3, 64)

	tests := []struct {
		name string
		id   cid.Cid
		data []byte
		want error // nil: success; errAny: any error that is neither sentinel
	}{
		{"match", ChunkCID(data), data, nil},
		{"empty match", ChunkCID(nil), nil, nil},
		{"dag-pb codec", sha256CID(t, cid.DagProtobuf, 32, data), data, nil},
		{"CIDv0", cid.NewCidV0(v0mh), data, nil},
		{"truncated digest", sha256CID(t, cid.Raw, 20, data), data, nil},
		{"blake3 match", ShardCID(data), data, nil},
		{"blake3 flipped", ShardCID(data), other, ErrCIDMismatch},
		{"blake3 truncated", cid.NewCidV1(cid.Raw, b3short), data, nil},
		{"blake3 truncated, flipped", cid.NewCidV1(cid.Raw, b3short), other, ErrCIDMismatch},
		{"blake3 64-byte digest", cid.NewCidV1(cid.Raw, b3long), data, errAny},
		{"one bit flipped", ChunkCID(data), other, ErrCIDMismatch},
		{"truncated, flipped", sha256CID(t, cid.Raw, 20, data), other, ErrCIDMismatch},
		{"short data", ChunkCID(data), data[:999], ErrCIDMismatch},
		{"sha2-512", cid.NewCidV1(cid.Raw, sha512mh), data, ErrUnsupportedHash},
		{"identity", cid.NewCidV1(cid.Raw, identity), data[:10], ErrUnsupportedHash},
		{"undefined", cid.Undef, data, errAny},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Verify(tc.id, tc.data)
			switch {
			case tc.want == nil && err != nil:
				t.Fatalf("Verify: %v", err)
			case tc.want == errAny:
				if err == nil || errors.Is(err, ErrCIDMismatch) || errors.Is(err, ErrUnsupportedHash) {
					t.Fatalf("Verify: %v, want a plain error", err)
				}
			case tc.want != nil && !errors.Is(err, tc.want):
				t.Fatalf("Verify: %v, want %v", err, tc.want)
			}
			if err != nil && tc.id.Defined() && !strings.Contains(err.Error(), tc.id.String()) {
				t.Errorf("error %q does not name the CID", err)
			}
		})
	}
}

var errAny = errors.New("any error")
