package blob

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"

	"cairn/erasure"
)

// TestReadAfterMove: a Get that looked a shard up just before Compact
// moved it and closed its segment reads it where it went.
func TestReadAfterMove(t *testing.T) {
	ctx := context.Background()
	s, err := OpenLog(filepath.Join(t.TempDir(), "node"), LogOptions{SegmentSize: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var keys []string
	var datas [][]byte
	for i := range 16 {
		data := bytes.Repeat([]byte{byte(i)}, 1000+i)
		id := erasure.ShardCID(data)
		if err := s.Put(ctx, id, data); err != nil {
			t.Fatal(err)
		}
		if i%4 == 0 {
			keys, datas = append(keys, id.KeyString()), append(datas, data)
		} else if err := s.Delete(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	stale, ok := s.lookup(keys[0])
	if !ok {
		t.Fatal("not held")
	}
	st, err := s.Compact(ctx)
	if err != nil || st.Moved == 0 {
		t.Fatalf("Compact: %+v, %v", st, err)
	}
	// The premise: the place looked up is gone.
	if now, _ := s.lookup(keys[0]); now == stale {
		t.Fatal("premise: Compact did not move the shard")
	}
	if _, err := s.read(stale, nil); err == nil || !stale.seg.retired.Load() {
		t.Fatalf("premise: reading the old place: %v (retired: %v)", err, stale.seg.retired.Load())
	}
	got, err := s.readFrom(keys[0], stale, nil)
	if err != nil || !bytes.Equal(got, datas[0]) {
		t.Fatalf("read from the old place after the move: %d bytes, %v", len(got), err)
	}
	if err := s.Delete(ctx, erasure.ShardCID(datas[0])); err != nil {
		t.Fatal(err)
	}
	if _, err := s.readFrom(keys[0], stale, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("read from the old place after the move and a delete: %v", err)
	}
}
