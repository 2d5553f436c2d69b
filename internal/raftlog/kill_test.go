package raftlog

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// killEntry is what the writer child stores at index i in term: its data
// names both, so any entry read back can be checked on its own.
func killEntry(i, term uint64) *raft.Log {
	data := make([]byte, 16+int(i%2000))
	binary.BigEndian.PutUint64(data, i)
	binary.BigEndian.PutUint64(data[8:], term)
	return &raft.Log{Index: i, Term: term, Type: raft.LogCommand, Data: data}
}

// TestKillAtAnyMoment SIGKILLs a process that writes to a store the way
// raft does (batches of appends, prefix compaction, a truncated and
// rewritten tail) at random moments, many times over the same file, and
// checks after each kill that the store opens, that its entries run
// without a gap from first to last, each intact, and that nothing
// acknowledged before the last step began is lost.
func TestKillAtAnyMoment(t *testing.T) {
	if os.Getenv("RAFTLOG_KILL_CHILD") != "" {
		t.Skip("the writer child runs in TestKillChild")
	}
	kills := 12
	if testing.Short() {
		kills = 4
	}
	path := filepath.Join(t.TempDir(), "raft.db")
	rng := rand.New(rand.NewPCG(1, 2))
	var acked uint64
	for k := 0; k < kills; k++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestKillChild$", "-test.v")
		cmd.Env = append(os.Environ(), "RAFTLOG_KILL_CHILD="+path)
		out, err := cmd.StdoutPipe()
		must(t, err)
		cmd.Stderr = os.Stderr
		must(t, cmd.Start())
		sc := bufio.NewScanner(out)
		// Let it get going (it prints "ack" after each step), then kill it
		// at a random moment in the middle of its work.
		deadline := time.After(time.Duration(30+rng.IntN(200)) * time.Millisecond)
		lines := make(chan string)
		go func() {
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		steps := 0
	read:
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					break read
				}
				if v, ok := strings.CutPrefix(l, "ack "); ok {
					n, err := strconv.ParseUint(v, 10, 64)
					must(t, err)
					acked = n
					steps++
				}
			case <-deadline:
				_ = cmd.Process.Signal(syscall.SIGKILL)
				for range lines {
				}
				break read
			}
		}
		_ = cmd.Wait()
		if steps == 0 && k == 0 {
			t.Log("the child acknowledged nothing before its first kill")
		}
		checkAfterKill(t, path, acked)
	}
	if acked == 0 {
		t.Fatal("no write was ever acknowledged: the test proved nothing")
	}
	t.Logf("%d kills; last acknowledged index %d", kills, acked)
}

func checkAfterKill(t *testing.T, path string, acked uint64) {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatalf("store does not open after a kill: %v", err)
	}
	defer s.Close()
	first, last, err := s.bounds()
	must(t, err)
	// The step in flight may have truncated up to 3 acknowledged entries
	// (raft truncates only entries that were never committed).
	if acked > 3 && last < acked-3 {
		t.Fatalf("last index %d after a kill, but %d was acknowledged", last, acked)
	}
	for i := first; i != 0 && i <= last; i++ {
		var l raft.Log
		if err := s.GetLog(i, &l); err != nil {
			t.Fatalf("entry %d of %d-%d: %v", i, first, last, err)
		}
		if len(l.Data) < 16 || binary.BigEndian.Uint64(l.Data) != i || binary.BigEndian.Uint64(l.Data[8:]) != l.Term {
			t.Fatalf("entry %d is not what was written", i)
		}
	}
}

// TestKillChild is the writer that TestKillAtAnyMoment kills.
func TestKillChild(t *testing.T) {
	path := os.Getenv("RAFTLOG_KILL_CHILD")
	if path == "" {
		t.Skip("run by TestKillAtAnyMoment")
	}
	s, err := Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(2)
	}
	last, err := s.LastIndex()
	must(t, err)
	term := uint64(1)
	if last > 0 {
		var l raft.Log
		must(t, s.GetLog(last, &l))
		term = l.Term
	}
	must(t, s.SetUint64([]byte("CurrentTerm"), term))
	for step := 0; ; step++ {
		if step%5 == 4 && last > 3 {
			// A new leader's log overrides an uncommitted tail.
			must(t, s.DeleteRange(last-2, last))
			term++
			must(t, s.SetUint64([]byte("CurrentTerm"), term))
			last -= 3
		}
		if first, _ := s.FirstIndex(); last > 2000 && first+1000 < last {
			must(t, s.DeleteRange(first, last-1000)) // compaction after a snapshot
		}
		var batch []*raft.Log
		for j := 0; j < 1+step%16; j++ {
			last++
			batch = append(batch, killEntry(last, term))
		}
		must(t, s.StoreLogs(batch))
		fmt.Printf("ack %d\n", last)
	}
}
