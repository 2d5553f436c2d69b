package machine

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"cairn/erasure"
)

// Loopback copies bytes over one TCP connection on 127.0.0.1, both ends
// in this process, for about d, and returns the rate the receiver saw in
// MiB/s.
func Loopback(d time.Duration) (float64, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	type result struct {
		n   int64
		dur time.Duration
		err error
	}
	got := make(chan result, 1)
	var wg sync.WaitGroup
	wg.Go(func() {
		c, err := l.Accept()
		if err != nil {
			got <- result{err: err}
			return
		}
		defer c.Close()
		buf := make([]byte, 256<<10)
		var n int64
		start := time.Now()
		for {
			m, err := c.Read(buf)
			n += int64(m)
			if err == io.EOF {
				got <- result{n: n, dur: time.Since(start)}
				return
			}
			if err != nil {
				got <- result{err: err}
				return
			}
		}
	})
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		l.Close()
		wg.Wait()
		return 0, err
	}
	buf := make([]byte, 256<<10)
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if _, err := c.Write(buf); err != nil {
			c.Close()
			wg.Wait()
			return 0, err
		}
	}
	c.Close()
	wg.Wait()
	r := <-got
	if r.err != nil {
		return 0, r.err
	}
	return float64(r.n) / (1 << 20) / r.dur.Seconds(), nil
}

// Sync says when DiskWrite makes its writes durable.
type Sync int

const (
	// SyncAtEnd fsyncs the file once, after the last write.
	SyncAtEnd Sync = iota
	// SyncEach follows every write with fdatasync (fsync where there is
	// none), as a store does that makes each record durable before it
	// answers.
	SyncEach
)

// DiskWrite writes size bytes to a new file in dir, in writes of block
// bytes, makes them durable as sync says (the syncs are in the time),
// removes the file and returns the rate in MiB/s. The bytes are not zeros,
// in case the disk compresses.
func DiskWrite(dir string, size int64, block int, sync Sync) (float64, error) {
	if size <= 0 || block <= 0 {
		return 0, errors.New("machine: disk write: size and block must be positive")
	}
	f, err := os.CreateTemp(dir, "diskwrite-*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	buf := make([]byte, block)
	for i := range buf {
		buf[i] = byte(i*7 + i>>8)
	}
	start := time.Now()
	for n := int64(0); n < size; n += int64(len(buf)) {
		if _, err := f.Write(buf); err != nil {
			return 0, err
		}
		if sync == SyncEach {
			if err := datasync(f); err != nil {
				return 0, fmt.Errorf("fdatasync: %w", err)
			}
		}
	}
	if sync == SyncAtEnd {
		if err := f.Sync(); err != nil {
			return 0, err
		}
	}
	written := (size + int64(block) - 1) / int64(block) * int64(block)
	return float64(written) / (1 << 20) / time.Since(start).Seconds(), nil
}

// FsyncLatency times n rounds of a 4 KiB write and an fsync to a file in
// dir, and returns the mean in ms.
func FsyncLatency(dir string, n int) (float64, error) {
	f, err := os.CreateTemp(dir, "fsync-*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	buf := make([]byte, 4<<10)
	start := time.Now()
	for range n {
		if _, err := f.Write(buf); err != nil {
			return 0, err
		}
		if err := f.Sync(); err != nil {
			return 0, err
		}
	}
	return float64(time.Since(start).Microseconds()) / 1e3 / float64(n), nil
}

// SHA256 hashes size bytes on one core and returns the rate in MiB/s.
func SHA256(size int) float64 {
	buf := make([]byte, 1<<20)
	h := sha256.New()
	start := time.Now()
	for n := 0; n < size; n += len(buf) {
		h.Write(buf)
	}
	h.Sum(nil)
	return float64(size) / (1 << 20) / time.Since(start).Seconds()
}

// maxReconstructions bounds Reconstruct's loop whatever the clock does.
const maxReconstructions = 1 << 20

// Reconstruct measures Reed-Solomon reconstruction as repair does it
// (internal/heal): a chunk of chunkSize bytes coded k+m by an
// erasure.Codec with its default options, one shard lost at a time
// (each index in turn, data and parity) and rebuilt in place by
// Codec.Reconstruct, for about d. It returns the rebuilt bytes, one shard
// per reconstruction, per second in MiB/s: the unit of repair throughput,
// not the chunk's bytes.
func Reconstruct(k, m, chunkSize int, d time.Duration) (float64, error) {
	codec, err := erasure.NewCodec(k, m)
	if err != nil {
		return 0, err
	}
	chunk := make([]byte, chunkSize)
	for i := range chunk {
		chunk[i] = byte(i*131 + i>>9)
	}
	shards, err := codec.Encode(chunk, nil)
	if err != nil {
		return 0, err
	}
	shardSize := len(shards[0])
	var rebuilt int64
	start := time.Now()
	deadline := start.Add(d)
	for i := 0; i < maxReconstructions && time.Now().Before(deadline); i++ {
		lost := i % (k + m)
		shards[lost] = shards[lost][:0] // missing, rebuilt in its own buffer
		if err := codec.Reconstruct(shards); err != nil {
			return 0, err
		}
		if len(shards[lost]) != shardSize {
			return 0, fmt.Errorf("machine: reconstruct: shard %d rebuilt with %d bytes, want %d", lost, len(shards[lost]), shardSize)
		}
		rebuilt += int64(shardSize)
	}
	return float64(rebuilt) / (1 << 20) / time.Since(start).Seconds(), nil
}
