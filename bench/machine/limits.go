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
// in this process, in writes of 256 KiB for about d, and returns the rate
// the receiver saw in MiB/s.
func Loopback(d time.Duration) (float64, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return TCPStream(l, d)
}

// TCPStream is Loopback to a listener made elsewhere (in another network
// namespace, say): one connection dialled to l's address from this
// process, 256 KiB writes for about d. It closes l only when the dial
// fails.
func TCPStream(l net.Listener, d time.Duration) (float64, error) {
	addr := l.Addr().String()
	return streams(l, func() (net.Conn, error) { return net.Dial("tcp", addr) }, 1, 256<<10, d)
}

// streams accepts conns connections from l while dial opens them, then
// sends from every dialled end to its accepted end at once, in writes of
// block bytes, for about d, and returns the bytes all receivers got over
// the time from the start to the last one's end of stream, in MiB/s.
// Connections that shake hands (TLS) do so before the time starts. When
// dial fails, streams closes l.
func streams(l net.Listener, dial func() (net.Conn, error), conns, block int, d time.Duration) (float64, error) {
	type handshaker interface{ Handshake() error }
	start := make(chan struct{})
	var (
		mu       sync.Mutex
		firstErr error
		total    int64
		lastEnd  time.Time
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
	}
	var ready, wg sync.WaitGroup
	ready.Add(2 * conns)
	for range conns {
		wg.Go(func() { // a receiver
			c, err := l.Accept()
			if err == nil {
				if h, ok := c.(handshaker); ok {
					err = h.Handshake()
				}
			}
			ready.Done()
			if err != nil {
				fail(err)
				if c != nil {
					c.Close()
				}
				return
			}
			defer c.Close()
			<-start
			buf := make([]byte, 1<<20)
			var n int64
			for {
				m, err := c.Read(buf)
				n += int64(m)
				if err == io.EOF {
					break
				}
				if err != nil {
					fail(err)
					return
				}
			}
			mu.Lock()
			total += n
			lastEnd = time.Now()
			mu.Unlock()
		})
	}
	var senders []net.Conn
	var dialErr error
	for range conns {
		c, err := dial()
		if err != nil {
			dialErr = err
			break
		}
		senders = append(senders, c)
		ready.Done()
	}
	if dialErr != nil {
		for _, c := range senders {
			c.Close()
		}
		l.Close() // receivers waiting in Accept return
		close(start)
		wg.Wait()
		return 0, dialErr
	}
	ready.Wait()
	t0 := time.Now()
	close(start)
	deadline := t0.Add(d)
	for _, c := range senders {
		wg.Go(func() { // a sender
			defer c.Close()
			buf := make([]byte, block)
			for i := range buf {
				buf[i] = byte(i*7 + i>>8)
			}
			for time.Now().Before(deadline) {
				if _, err := c.Write(buf); err != nil {
					fail(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return 0, firstErr
	}
	return float64(total) / (1 << 20) / lastEnd.Sub(t0).Seconds(), nil
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
