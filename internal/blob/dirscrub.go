package blob

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/ipfs/go-cid"

	"cairn/erasure"
)

var _ Scrubber = (*DirStore)(nil)

// Scrub implements Scrubber. It goes through the fan-out directories and
// their files in name order, reads each file through the page cache and
// checks it as Get does: the header, and the content against its CID
// where the CID is a content address. A shard name hashes nothing and a
// version 1 file carries no checksum, so such a shard is only read (a
// missing or failing read, a bad header, a short file are still found)
// and counted Unverifiable.
func (s *DirStore) Scrub(ctx context.Context, opts ScrubOptions, report func(ScrubFinding)) (st ScrubStats, _ error) {
	fromFan, fromFile, err := parseDirCursor(opts.From)
	if err != nil {
		return st, err
	}
	p := newPacer(opts)
	begin := p.clock.Now()
	defer func() { st.Duration = p.clock.Now().Sub(begin) }()
	if err := ctx.Err(); err != nil {
		st.Next = opts.From
		return st, err
	}
	shards := filepath.Join(s.dir, shardsDir)
	fans, err := os.ReadDir(shards)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return st, fmt.Errorf("scrub: %w", err)
	}
	last := opts.From
	var buf []byte
	for _, fan := range fans {
		if !fan.IsDir() || fan.Name() < fromFan {
			continue
		}
		entries, err := os.ReadDir(filepath.Join(shards, fan.Name()))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			st.Next = last
			return st, fmt.Errorf("scrub: %w", err)
		}
		for _, e := range entries {
			if fan.Name() == fromFan && e.Name() <= fromFile || !e.Type().IsRegular() {
				continue
			}
			id, err := cid.Decode(e.Name())
			if err != nil {
				continue
			}
			fi, err := e.Info()
			if err != nil {
				continue // deleted meanwhile
			}
			if err := p.wait(ctx, fi.Size()); err != nil {
				st.Next = last
				return st, err
			}
			last = "dir:" + fan.Name() + "/" + e.Name()
			var held bool
			held, buf, err = s.scrub1(id, filepath.Join(shards, fan.Name(), e.Name()), e.Name(), buf)
			if !held {
				continue
			}
			st.Shards++
			st.Bytes += int64(len(buf))
			var f Fault
			switch {
			case err == nil:
				if erasure.IsShardName(id) {
					st.Unverifiable++
				}
				continue
			case errors.Is(err, ErrCorrupt):
				st.Corrupt++
				f = FaultCorrupt
			default:
				st.Unreadable++
				f = FaultUnreadable
			}
			if report != nil {
				report(ScrubFinding{CID: id, Fault: f, Err: err})
			}
		}
	}
	return st, nil
}

// scrub1 reads and checks one shard file into buf, as Get does. held is
// false if the file is gone (deleted since the pass listed it).
func (s *DirStore) scrub1(id cid.Cid, path, file string, buf []byte) (held bool, _ []byte, err error) {
	data, err := readShard(path, buf)
	if err == nil {
		err = Verify(id, data)
	}
	if errors.Is(err, ErrCorrupt) || errors.Is(err, errBadHeader) {
		data, err = s.recheck(id, path, file, data)
	}
	if errors.Is(err, ErrNotFound) {
		return false, data[:0], nil
	}
	return true, data, err
}

// parseDirCursor splits a DirStore's scrub cursor, "dir:XX/<cid>": the
// last file checked.
func parseDirCursor(s string) (fan, file string, err error) {
	if s == "" {
		return "", "", nil
	}
	rest, ok := strings.CutPrefix(s, "dir:")
	fan, file, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 || len(fan) != 2 || file == "" {
		return "", "", fmt.Errorf("blob: scrub: %q is not where a directory store's scrub stopped", s)
	}
	return fan, file, nil
}
