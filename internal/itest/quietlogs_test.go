//go:build integration

package itest

import (
	"bytes"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
)

// loudLines returns a log's lines above INFO (WARN and ERROR), and the
// lines storaged printed without a level.
func loudLines(log string) []string {
	var out []string
	for line := range strings.Lines(log) {
		if strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR") || !strings.Contains(line, "level=") {
			out = append(out, strings.TrimSpace(line))
		}
	}
	return out
}

// roundTrip writes an object through c and reads it back, so that a start
// counts as one that served: what a normal start is.
func roundTrip(t *testing.T, c *minio.Client, bucket string) {
	t.Helper()
	ctx := ctxT(t)
	mkBucket(t, c, bucket)
	data := payloadBytes(7, 3<<20+17)
	if _, err := c.PutObject(ctx, bucket, "obj", bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	o, err := c.GetObject(ctx, bucket, "obj", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if got := md5Of(t, o); !bytes.Equal(got, md5Of(t, bytes.NewReader(data))) {
		t.Fatal("read back other bytes")
	}
}

// TestQuietLogsDev: a normal start and stop of storaged --dev, with an
// object written and read, logs nothing above INFO.
func TestQuietLogsDev(t *testing.T) {
	p := startDev(t, "")
	roundTrip(t, p.client(), "quiet")
	p.stop()
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "level=INFO") {
		t.Fatalf("the log holds no INFO line: the check reads the wrong file\n%s", tail(b, 2000))
	}
	if loud := loudLines(string(b)); len(loud) > 0 {
		t.Fatalf("%d lines above INFO in a normal start and stop of storaged --dev:\n%s", len(loud), strings.Join(loud, "\n"))
	}
}

// TestQuietLogsCluster: a normal start and stop of a six-node cluster
// (started one node after the other, an object written and read, each
// node stopped with SIGTERM in turn, as an operator does) logs nothing
// above INFO on any node.
func TestQuietLogsCluster(t *testing.T) {
	c := newTestCluster(t, nil)
	c.bringUp(ctxT(t)) // a key and a bucket made with storectl, every gateway settled
	roundTrip(t, c.s3(c.nodes[0]), "quiet")
	for i := len(c.nodes) - 1; i >= 0; i-- {
		n := c.nodes[i]
		n.mu.Lock()
		cmd, exited := n.cmd, n.exited
		n.mu.Unlock()
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(60 * time.Second):
			t.Fatalf("%s did not stop within 60s of SIGTERM", n.name)
		}
		if code := cmd.ProcessState.ExitCode(); code != 0 {
			t.Fatalf("%s exited %d after SIGTERM", n.name, code)
		}
	}
	for _, n := range c.nodes {
		b, err := os.ReadFile(n.logPath)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), "level=INFO") {
			t.Fatalf("%s: the log holds no INFO line: the check reads the wrong file", n.name)
		}
		if loud := loudLines(string(b)); len(loud) > 0 {
			t.Errorf("%s: %d lines above INFO in a normal start and stop:\n%s", n.name, len(loud), strings.Join(loud, "\n"))
		}
	}
}
