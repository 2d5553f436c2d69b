//go:build faultinject

package node

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"github.com/ipfs/go-cid"

	"cairn/internal/blob"
)

// A hostile storage node, for the integration tests of audits and
// ejection (internal/itest builds a second storaged with -tags
// faultinject). Production builds have none of this file: fault_off.go
// stands in for it. CAIRN_FAULT makes the node's shard store, as the
// node API and the gateways of its process see it, misbehave on a
// fraction F of the shards, chosen by a hash of their names (so the same
// shards, rebuilt there again, misbehave again):
//
//	CAIRN_FAULT=drop:F   GET answers "not found", while HEAD and the
//	                     inventory still list the shard: a node that lost
//	                     shards and claims to hold them
//	CAIRN_FAULT=alter:F  GET returns the shard with one byte changed, as
//	                     good: a node that lies (shards are named, not
//	                     content-addressed, so nothing but the chunk check
//	                     and the audit's sum can tell)
//
// The scrub and compaction work on the store itself.

// faultEnv names the variable read.
const faultEnv = "CAIRN_FAULT"

// withFaults returns st wrapped as CAIRN_FAULT says, or st itself.
func withFaults(st blob.Local, log *slog.Logger) (blob.Local, error) {
	v := os.Getenv(faultEnv)
	if v == "" {
		return st, nil
	}
	mode, frac, ok := strings.Cut(v, ":")
	f, err := strconv.ParseFloat(frac, 64)
	if !ok || err != nil || f < 0 || f > 1 || (mode != "drop" && mode != "alter") {
		return nil, fmt.Errorf("%s=%q: want drop:F or alter:F, F in [0, 1]", faultEnv, v)
	}
	log.Warn("fault injection: this storage node misbehaves on purpose", "mode", mode, "fraction", f)
	return &faultyStore{Local: st, alter: mode == "alter", frac: f}, nil
}

// faultyStore is a store that drops or alters a fraction of its shards
// on GET.
type faultyStore struct {
	blob.Local
	alter bool
	frac  float64
}

// hit reports whether id is one of the shards the store misbehaves on.
func (s *faultyStore) hit(id cid.Cid) bool {
	h := sha256.Sum256(id.Bytes())
	return float64(binary.BigEndian.Uint64(h[:8])>>11)/(1<<53) < s.frac
}

func (s *faultyStore) Get(ctx context.Context, id cid.Cid, dst []byte) ([]byte, error) {
	if !s.hit(id) {
		return s.Local.Get(ctx, id, dst)
	}
	if !s.alter {
		return dst[:0], fmt.Errorf("fault injection: shard %s: %w", id, blob.ErrNotFound)
	}
	b, err := s.Local.Get(ctx, id, dst)
	if err == nil && len(b) > 0 {
		b[len(b)/2] ^= 0x5a
	}
	return b, err
}
