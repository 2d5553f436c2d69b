// This file checks DAGBuilder against boxo's UnixFS importer itself — the
// code `ipfs add` runs — for sizes from 0 bytes to 300 MiB and for the
// variable leaf sizes of multipart objects. boxo is a test-only dependency.
package erasure

import (
	"io"
	"testing"

	chunker "github.com/ipfs/boxo/chunker"
	mdtest "github.com/ipfs/boxo/ipld/merkledag/test"
	"github.com/ipfs/boxo/ipld/unixfs/importer/balanced"
	"github.com/ipfs/boxo/ipld/unixfs/importer/helpers"
	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"
)

// boxoRoot imports spl's chunks the way `ipfs add --cid-version=1
// --raw-leaves` does and returns the root CID.
func boxoRoot(spl chunker.Splitter) (cid.Cid, error) {
	params := helpers.DagBuilderParams{
		Maxlinks:   helpers.DefaultLinksPerBlock,
		RawLeaves:  true,
		CidBuilder: cid.V1Builder{Codec: cid.DagProtobuf, MhType: multihash.SHA2_256},
		Dagserv:    mdtest.Mock(),
	}
	db, err := params.New(spl)
	if err != nil {
		return cid.Undef, err
	}
	nd, err := balanced.Layout(db)
	if err != nil {
		return cid.Undef, err
	}
	return nd.Cid(), nil
}

// sizesSplitter yields chunks of the given sizes, in order.
type sizesSplitter struct {
	r     io.Reader
	sizes []int
}

func (s *sizesSplitter) Reader() io.Reader { return s.r }

func (s *sizesSplitter) NextBytes() ([]byte, error) {
	if len(s.sizes) == 0 {
		return nil, io.EOF
	}
	b := make([]byte, s.sizes[0])
	s.sizes = s.sizes[1:]
	if _, err := io.ReadFull(s.r, b); err != nil {
		return nil, err
	}
	return b, nil
}

func TestBoxoFixedChunks(t *testing.T) {
	for _, tc := range dagSizeCases {
		t.Run(tc.name, func(t *testing.T) {
			// Both sides hash every byte: run them on both cores.
			var w cid.Cid
			var werr error
			done := make(chan struct{})
			go func() {
				defer close(done)
				spl := chunker.NewSizeSplitter(newPRNG(uint64(tc.size), tc.size), DefaultChunkSize)
				w, werr = boxoRoot(spl)
			}()
			got, err := streamRoot(newPRNG(uint64(tc.size), tc.size), DefaultChunkSize)
			<-done
			if err != nil {
				t.Fatal(err)
			}
			if werr != nil {
				t.Fatalf("boxo: %v", werr)
			}
			if got != w {
				t.Fatalf("root %s, boxo %s", got, w)
			}
			t.Logf("root %s", got)
		})
	}
}

func TestBoxoVariableLeaves(t *testing.T) {
	for _, tc := range dagLeavesCases() {
		t.Run(tc.name, func(t *testing.T) {
			var total int64
			for _, s := range tc.sizes {
				total += int64(s)
			}
			sizes := append([]int(nil), tc.sizes...)
			w, err := boxoRoot(&sizesSplitter{r: newPRNG(tc.seed, total), sizes: sizes})
			if err != nil {
				t.Fatalf("boxo: %v", err)
			}
			got, err := leavesRoot(tc.seed, tc.sizes)
			if err != nil {
				t.Fatal(err)
			}
			if got != w {
				t.Fatalf("root %s, boxo %s", got, w)
			}
			t.Logf("root %s", got)
		})
	}
}
