package erasure

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/ipfs/go-cid"
)

// The roots below were computed by boxo v0.39.0's importer (balanced
// layout, 174 links, raw leaves, CIDv1, sha2-256) for the same bytes, by
// dag_boxo_test.go (go test -tags boxo); DAGBuilder gave the same. They pin
// boxo compatibility in the default test run.
var goldenSizeRoots = map[string]string{
	"0":      "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
	"1":      "bafkreiayt5aags7hugm7d6uysfti5y5lmbe7qljyy2f6od2zn2vs4gcxw4",
	"1MiB-1": "bafkreif4fopi43wlfdnm4sfvgt5gnh6bwcu5rc4tso2pc3xg7gcybudwsq",
	"1MiB":   "bafkreidyiolecebspp6kpbylvrz5vqkxoqymzhaaearyh5tzd7smhkgmzy",
	"1MiB+1": "bafybeibg2qb6u2lt3pu62m6fseimbg4sk7oxhjhkomtri5ad4oasdfsksy",
	"5MiB":   "bafybeidpqyfchmlfgin6bsmbn4iwhp7imoflhi73vca7jlwvpu4vg4wrye",
	"174MiB": "bafybeiaxmluazt4j42mmjy7z3f3ipw35tmy64nwwszil6qx3v3qou3xome",
	"175MiB": "bafybeie6xq5oyw42qtuclz656zyavyh2lws4heagveq3y4l2wjmwa72ovu",
	"300MiB": "bafybeieruoozi2oloz6cr3c6ru54732je6vdqikfxzux2hldswffedikim",
}

var goldenLeavesRoots = map[string]string{
	"1MiB,1MiB,512KiB x9":    "bafybeih4jk2yy646awuvwqmvdvcwe2tgijpfjpzjrrrpiobesgfnubjaiq",
	"1MiB,1MiB,512KiB x400":  "bafybeidxfdwcxsooqujmduwkfvzv4mlwpn4bj5nvsa5h34r4g2dxl5jc7q",
	"parts 5MB x3 + 1234":    "bafybeielqy5boixtupncwahcgzywd76wiyzd7rskrfmx3h4tfomfuqx4my",
	"parts 5MiB+100 x40 + 3": "bafybeiekmra7uymymvtmdgbsqopn3xrr3gbjcovkbklf5nt5664c3ge4we",
	"zero-size leaf inside":  "bafybeicdfox6hdavolplkjj4rp2robggjjvpbmjfdlv2qopigv6bs7msta",
	"2 tiny leaves":          "bafybeidadnybs4qmve35et5vhliy2or2j3jtvgfgc25nn4z2ncqv3nt5la",
	"3 tiny leaves":          "bafybeifg5uwkpfxmm7qjpjygxxvdta2wr6kiseoxshyezwht23dgjekcbq",
	"173 tiny leaves":        "bafybeifz5hht6eaxrauqkdtgbspktm2q5uqbjiyfd2vtf4nmttczwdtc6a",
	"174 tiny leaves":        "bafybeiba7yit7nkbhz4yqwt5upsajbsghpfk56gexkkci32yxpr2x6qdpm",
	"175 tiny leaves":        "bafybeibrw7e2h7c6h6evsjcwkadr6qytcwt2m7j5h7nwhhxoqv56y4sbl4",
	"348 tiny leaves":        "bafybeib2not4pgffs6ioke2myo74gkb5b5jw5zoenlovjwegp36uzyxws4",
	"349 tiny leaves":        "bafybeigf3lotclzhao7twokzpswvzsxgxwxjnrcezsnuz3jluzfyz64l5u",
	"30275 tiny leaves":      "bafybeiceoufot6lnzbaaiiz35rlo3yshbif67g3xaibolq4jdthmzyaxae",
	"30276 tiny leaves":      "bafybeifkz4bva5ul25ti5uiany74pcnz3gyywbacjsjgm7or6xhqcujrii",
	"30277 tiny leaves":      "bafybeic4mirs7rpdujv5xwsofgruuqonxdtaqdgza2mezbt4ghwllzdvge",
	"30451 tiny leaves":      "bafybeibyqkeyp7kjyzq44kb2x6zv7ivkqu5qm5bka5hw7a26mfj6utbzna",
	"60553 tiny leaves":      "bafybeifbm5573xmakchoxf7p4x6orinc5xmgbatr2fu3hizorg6z67vbvy",
}

func TestDAGRootFixedChunks(t *testing.T) {
	for _, tc := range dagSizeCases {
		t.Run(tc.name, func(t *testing.T) {
			want := mustCID(t, goldenSizeRoots[tc.name])
			got, err := streamRoot(newPRNG(uint64(tc.size), tc.size), DefaultChunkSize)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Fatalf("root %s, want %s (boxo)", got, want)
			}
		})
	}
}

func TestDAGRootVariableLeaves(t *testing.T) {
	for _, tc := range dagLeavesCases() {
		t.Run(tc.name, func(t *testing.T) {
			want := mustCID(t, goldenLeavesRoots[tc.name])
			got, err := leavesRoot(tc.seed, tc.sizes)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Fatalf("root %s, want %s (boxo)", got, want)
			}
		})
	}
}

// refRoot is a reference for DAGBuilder: a literal transcription of boxo's
// balanced.Layout and fillNodeRec over a slice of leaves, holding them all.
func refRoot(leaves []dagLink) cid.Cid {
	if len(leaves) == 0 {
		return ChunkCID(nil)
	}
	b := NewDAGBuilder() // only for its node encoder
	next := 0
	done := func() bool { return next == len(leaves) }
	var fill func(first *dagLink, depth int) dagLink
	fill = func(first *dagLink, depth int) dagLink {
		var links []dagLink
		if first != nil {
			links = append(links, *first)
		}
		for len(links) < linksPerNode && !done() {
			if depth == 1 {
				links = append(links, leaves[next])
				next++
			} else {
				links = append(links, fill(nil, depth-1))
			}
		}
		return b.node(links)
	}
	root := leaves[0]
	next = 1
	for depth := 1; !done(); depth++ {
		root = fill(&root, depth)
	}
	return root.id
}

func TestDAGBuilderMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	all := make([]dagLink, 3*174*174)
	for i := range all {
		size := uint64(rng.IntN(2 * MiB))
		all[i] = dagLink{id: ChunkCID(fmt.Appendf(nil, "leaf %d", i)), tsize: size, fsize: size}
	}
	counts := []int{0, 1, 2, 173, 174, 175, 347, 348, 349, 174*174 - 1, 174 * 174, 174*174 + 1}
	for range 40 {
		counts = append(counts, 1+rng.IntN(len(all)))
	}
	for _, n := range counts {
		leaves := all[:n]
		b := NewDAGBuilder()
		for _, l := range leaves {
			b.Add(l.id, l.fsize)
		}
		got, err := b.Root()
		if err != nil {
			t.Fatal(err)
		}
		if want := refRoot(leaves); got != want {
			t.Errorf("%d leaves: root %s, reference %s", n, got, want)
		}
	}
}

func TestDAGBuilderEdges(t *testing.T) {
	empty := "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"

	t.Run("no leaves", func(t *testing.T) {
		got, err := NewDAGBuilder().Root()
		if err != nil || got.String() != empty {
			t.Fatalf("Root() = %s, %v; want %s", got, err, empty)
		}
	})

	t.Run("one leaf is the root", func(t *testing.T) {
		leaf := ChunkCID([]byte("hello"))
		b := NewDAGBuilder()
		b.Add(leaf, 5)
		if got, err := b.Root(); err != nil || got != leaf {
			t.Fatalf("Root() = %s, %v; want %s", got, err, leaf)
		}
	})

	t.Run("Root leaves the builder usable", func(t *testing.T) {
		a, b := NewDAGBuilder(), NewDAGBuilder()
		for i := range 2*174 + 3 {
			leaf := ChunkCID(fmt.Appendf(nil, "%d", i))
			a.Add(leaf, 7)
			b.Add(leaf, 7)
			if i%50 == 0 {
				if _, err := a.Root(); err != nil {
					t.Fatal(err)
				}
			}
		}
		ra, errA := a.Root()
		rb, errB := b.Root()
		if errA != nil || errB != nil || ra != rb {
			t.Fatalf("interleaved Root: %s, %v; plain: %s, %v", ra, errA, rb, errB)
		}
	})

	t.Run("undefined leaf", func(t *testing.T) {
		b := NewDAGBuilder()
		b.Add(ChunkCID([]byte("x")), 1)
		b.Add(cid.Undef, 1)
		if _, err := b.Root(); err == nil {
			t.Fatal("Root() after an undefined leaf: no error")
		}
	})
}

func TestAppendFileNodeLayout(t *testing.T) {
	// A two-leaf node, spelled out field by field.
	a, b := ChunkCID([]byte("a")), ChunkCID([]byte("bc"))
	var want []byte
	for _, l := range []struct {
		id    cid.Cid
		tsize byte
	}{{a, 1}, {b, 2}} {
		h := l.id.Bytes()
		want = append(want, 0x12, byte(2+len(h)+2+2), 0x0a, byte(len(h)))
		want = append(want, h...)
		want = append(want, 0x12, 0x00, 0x18, l.tsize)
	}
	want = append(want, 0x0a, 8, 0x08, 0x02, 0x18, 3, 0x20, 1, 0x20, 2)
	got := appendFileNode(nil, []dagLink{{a, 1, 1}, {b, 2, 2}}, 3)
	if string(got) != string(want) {
		t.Fatalf("encoding\n got %x\nwant %x", got, want)
	}
}
