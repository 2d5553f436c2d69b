package meta

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// mappedKiB returns the resident KiB of the process's mappings of files
// whose path ends with suffix, from /proc/self/smaps.
func mappedKiB(t *testing.T, suffix string) int {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	total, in := 0, false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		switch {
		case len(fs) >= 5 && strings.Contains(fs[0], "-") && !strings.HasSuffix(fs[0], ":"):
			in = len(fs) >= 6 && strings.HasSuffix(fs[len(fs)-1], suffix)
		case in && len(fs) == 3 && fs[0] == "Rss:":
			n, err := strconv.Atoi(fs[1])
			if err != nil {
				t.Fatal(err)
			}
			total += n
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return total
}

// TestReleaseMemory: the pages of the state file that reads mapped leave
// the resident set on ReleaseMemory, and every object still reads back
// whole afterwards.
func TestReleaseMemory(t *testing.T) {
	n := newDev(t, nil)
	s := n.s
	must(t, s.CreateBucket(bg, "b", time.Now()))
	const objects, size = 256, 64 << 10
	body := func(i int) []byte { return bytes.Repeat([]byte{byte(i), byte(i >> 8), 0x5a}, size/3+1)[:size] }
	for i := range objects {
		key := fmt.Sprintf("k%04d", i)
		must(t, s.PutObject(bg, &Object{Bucket: "b", Key: key, Size: size, ETag: "e", CID: "c", Modified: time.Now(),
			Chunks: []Chunk{{CID: cid(key), Size: size, Data: body(i)}}}))
	}
	read := func() {
		t.Helper()
		for i := range objects {
			o, err := s.GetObject(bg, "b", fmt.Sprintf("k%04d", i))
			must(t, err)
			if len(o.Chunks) != 1 || !bytes.Equal(o.Chunks[0].Data, body(i)) {
				t.Fatalf("object %d reads back wrong", i)
			}
		}
	}
	read()
	before := mappedKiB(t, "/fsm.db")
	if before < objects*size/1024/2 {
		t.Fatalf("only %d KiB of fsm.db resident after reading %d KiB of objects", before, objects*size/1024)
	}
	activity := s.Activity()
	must(t, s.ReleaseMemory())
	if got := s.Activity(); got != activity {
		t.Errorf("ReleaseMemory counted as activity: %d, then %d", activity, got)
	}
	after := mappedKiB(t, "/fsm.db")
	t.Logf("fsm.db resident: %d KiB, %d KiB after ReleaseMemory", before, after)
	if after > before/8 {
		t.Fatalf("fsm.db resident: %d KiB, still %d KiB after ReleaseMemory", before, after)
	}
	read()
	if got := s.Activity(); got <= activity {
		t.Errorf("Activity stayed at %d over %d reads", got, objects)
	}
	n.close()
	if err := s.ReleaseMemory(); err == nil {
		t.Error("ReleaseMemory on a closed store succeeded")
	}
}
