package md5x

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/md5"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var lengths = []int{0, 1, 63, 64, 65, 4095, 4096, 4097, 64*100 + 3, 1 << 20, 1<<20 + 13}

// hashChunks hashes data through a new stream of b, cut into chunks of at
// most chunk bytes, each copied into a buffer at an odd alignment that is
// overwritten as soon as its wait returns (as the gateway seals chunks in
// place), waits run on other goroutines as the gateway's do.
func hashChunks(t testing.TB, b *Batcher, data []byte, chunk int, r *rand.Rand) []byte {
	s := b.NewStream()
	defer s.Close()
	var wg sync.WaitGroup
	for len(data) > 0 {
		n := min(len(data), 1+r.IntN(chunk))
		if r.IntN(2) == 0 {
			n = min(len(data), chunk)
		}
		align := r.IntN(64)
		buf := make([]byte, align+n)[align:]
		copy(buf, data[:n])
		data = data[n:]
		wait := s.Submit(buf)
		wg.Go(func() {
			wait()
			for i := range buf {
				buf[i] = 0xA5 // what was hashed may be overwritten now
			}
		})
	}
	if r.IntN(2) == 0 {
		s.Close() // before the last chunks are hashed, as the gateway does
	}
	wg.Wait()
	return s.Sum(nil)
}

func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func batchers() map[string]*Batcher {
	tiny := NewBatcher(Options{MinLanes: 1, MaxWait: 100 * time.Microsecond})
	tiny.offLimit = 1 << 12 // most lanes too far from the first: later rounds
	return map[string]*Batcher{
		"default": NewBatcher(Options{}),
		"one":     NewBatcher(Options{MinLanes: 1}),
		"offsets": tiny,
		"scalar":  NewBatcher(Options{Scalar: true}),
	}
}

func TestStreamLengths(t *testing.T) {
	for name, b := range batchers() {
		t.Run(name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(3, 4))
			for _, n := range lengths {
				data := randBytes(r, n)
				want := md5.Sum(data)
				for _, chunk := range []int{64, 1000, 64 << 10, 1 << 20} {
					if got := hashChunks(t, b, data, chunk, r); !bytes.Equal(got, want[:]) {
						t.Errorf("len %d chunk %d: %x, want %x", n, chunk, got, want)
					}
				}
			}
		})
	}
}

func TestConcurrentStreams(t *testing.T) {
	counts := []int{1, 2, 3, 5, 16, 17, 40}
	if testing.Short() {
		counts = []int{3, 17}
	}
	for name, b := range batchers() {
		for _, streams := range counts {
			t.Run(fmt.Sprintf("%s/%d", name, streams), func(t *testing.T) {
				var wg sync.WaitGroup
				for i := range streams {
					wg.Go(func() {
						r := rand.New(rand.NewPCG(uint64(i), 5))
						// Staggered starts and different lengths: lanes
						// join and leave while others hash.
						time.Sleep(time.Duration(r.IntN(2000)) * time.Microsecond)
						data := randBytes(r, r.IntN(3<<20))
						want := md5.Sum(data)
						if got := hashChunks(t, b, data, 256<<10, r); !bytes.Equal(got, want[:]) {
							t.Errorf("stream %d, %d bytes: %x, want %x", i, len(data), got, want)
						}
					})
				}
				wg.Wait()
				b.mu.Lock()
				defer b.mu.Unlock()
				if b.active != 0 || b.busy != 0 || len(b.pending) != 0 {
					t.Errorf("after all streams closed: active %d, busy %d, pending %d", b.active, b.busy, len(b.pending))
				}
			})
		}
	}
}

func TestSumEmptyAndAgain(t *testing.T) {
	b := NewBatcher(Options{MinLanes: 1})
	s := b.NewStream()
	defer s.Close()
	empty := md5.Sum(nil)
	if got := s.Sum(nil); !bytes.Equal(got, empty[:]) {
		t.Fatalf("empty: %x, want %x", got, empty)
	}
	data := randBytes(rand.New(rand.NewPCG(1, 1)), 1<<20+13)
	wait := s.Submit(data[:1<<19])
	// Sum without waiting: it hashes the pending chunk itself.
	half := md5.Sum(data[:1<<19])
	if got := s.Sum(nil); !bytes.Equal(got, half[:]) {
		t.Fatalf("half: %x, want %x", got, half)
	}
	wait()
	s.Submit(data[1<<19:])()
	all := md5.Sum(data)
	if got := s.Sum(nil); !bytes.Equal(got, all[:]) {
		t.Fatalf("all: %x, want %x", got, all)
	}
}

// A stream that submits nothing more holds others back no longer than
// MaxWait; one that closes, not at all.
func TestIdleStreamDoesNotBlock(t *testing.T) {
	b := NewBatcher(Options{MaxWait: time.Millisecond})
	idle := b.NewStream()
	other := b.NewStream()
	data := randBytes(rand.New(rand.NewPCG(1, 2)), 1<<16)
	other.Submit(data)()
	idle.Close()
	other.Submit(data)()
	want := md5.Sum(append(data, data...))
	if got := other.Sum(nil); !bytes.Equal(got, want[:]) {
		t.Fatalf("%x, want %x", got, want)
	}
	other.Close()
}

func FuzzStream(f *testing.F) {
	f.Add([]byte("hello"), uint16(3), uint8(2))
	f.Add(make([]byte, 5000), uint16(4096), uint8(5))
	b := NewBatcher(Options{MinLanes: 1, MaxWait: 50 * time.Microsecond})
	f.Fuzz(func(t *testing.T, data []byte, chunk uint16, streams uint8) {
		r := rand.New(rand.NewPCG(uint64(chunk), uint64(streams)))
		want := md5.Sum(data)
		var wg sync.WaitGroup
		for i := range int(streams%8) + 1 {
			wg.Go(func() {
				d := data[i%max(len(data), 1):]
				w := md5.Sum(d)
				if i == 0 {
					d, w = data, want
				}
				if got := hashChunks(t, b, d, int(chunk)+1, r2(r, i)); !bytes.Equal(got, w[:]) {
					t.Errorf("stream %d: %x, want %x", i, got, w)
				}
			})
		}
		wg.Wait()
	})
}

var r2mu sync.Mutex

func r2(r *rand.Rand, i int) *rand.Rand {
	r2mu.Lock()
	defer r2mu.Unlock()
	return rand.New(rand.NewPCG(r.Uint64(), uint64(i)))
}

// BenchmarkBatcher hashes streams concurrent uploads of 16 chunks of
// 1 MiB each, one goroutine per upload submitting and one per chunk
// waiting, as the gateway does. The bytes counted are all streams'.
func BenchmarkBatcher(b *testing.B) {
	const chunk, chunks = 1 << 20, 16
	for _, mode := range []string{"scalar", "lanes"} {
		for _, streams := range []int{1, 2, 3, 4, 5, 8, 16} {
			b.Run(fmt.Sprintf("%s/streams=%d", mode, streams), func(b *testing.B) {
				bt := NewBatcher(Options{Scalar: mode == "scalar"})
				bufs := make([][]byte, streams)
				for i := range bufs {
					bufs[i] = make([]byte, chunk)
				}
				b.SetBytes(int64(streams * chunks * chunk))
				cpu0 := cpuTime(b)
				defer func() {
					mib := float64(b.N*streams*chunks*chunk) / (1 << 20)
					b.ReportMetric(float64((cpuTime(b)-cpu0).Microseconds())/mib, "cpu-µs/MiB")
				}()
				for b.Loop() {
					var wg sync.WaitGroup
					for i := range streams {
						wg.Go(func() {
							s := bt.NewStream()
							defer s.Close()
							var cw sync.WaitGroup
							for range chunks {
								cw.Go(s.Submit(bufs[i]))
							}
							cw.Wait()
							s.Sum(nil)
						})
					}
					wg.Wait()
				}
			})
		}
	}
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkUploads is a gateway's PUT in miniature: streams uploads of 16
// chunks of 1 MiB, each read into one of its 5 buffers (a copy), submitted,
// then in one of at most 4 goroutines per upload given its SHA-256,
// waited for and sealed in place with AES-GCM. It reports the CPU per MiB
// of all that, and for the lanes how many chunks a kernel call hashed.
func BenchmarkUploads(b *testing.B) {
	const chunk, chunks, bufs, inFlight = 1 << 20, 16, 5, 4
	src := randBytes(rand.New(rand.NewPCG(1, 1)), chunk)
	block, err := aes.NewCipher(make([]byte, 32))
	if err != nil {
		b.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		b.Fatal(err)
	}
	for _, mode := range []string{"scalar", "lanes-1ms", "lanes-2ms", "lanes-5ms", "lanes-10ms"} {
		var wait time.Duration
		if d, ok := strings.CutPrefix(mode, "lanes-"); ok {
			var err error
			if wait, err = time.ParseDuration(d); err != nil {
				b.Fatal(err)
			}
		}
		for _, streams := range []int{3, 5, 16} {
			b.Run(fmt.Sprintf("%s/streams=%d", mode, streams), func(b *testing.B) {
				bt := NewBatcher(Options{Scalar: mode == "scalar", MaxWait: wait})
				pools := make([]chan []byte, streams)
				for i := range pools {
					pools[i] = make(chan []byte, bufs)
					for range bufs {
						pools[i] <- make([]byte, chunk+gcm.Overhead())
					}
				}
				b.SetBytes(int64(streams * chunks * chunk))
				cpu0 := cpuTime(b)
				for b.Loop() {
					var wg sync.WaitGroup
					for i := range streams {
						wg.Go(func() {
							s := bt.NewStream()
							defer s.Close()
							var cw sync.WaitGroup
							slots := make(chan struct{}, inFlight)
							for range chunks {
								buf := <-pools[i]
								data := buf[:chunk]
								copy(data, src)
								hashed := s.Submit(data)
								slots <- struct{}{}
								cw.Go(func() {
									sha256.Sum256(data)
									hashed()
									gcm.Seal(data[:0], make([]byte, 12), data, nil)
									pools[i] <- buf
									<-slots
								})
							}
							s.Close()
							cw.Wait()
							s.Sum(nil)
						})
					}
					wg.Wait()
				}
				mib := float64(b.N*streams*chunks*chunk) / (1 << 20)
				b.ReportMetric(float64((cpuTime(b)-cpu0).Microseconds())/mib, "cpu-µs/MiB")
				bt.mu.Lock()
				if st := bt.stats; st.rounds > 0 {
					b.ReportMetric(float64(st.lanes)/float64(st.rounds), "lanes/round")
					b.ReportMetric(float64(st.expired)/float64(st.rounds), "expired/round")
				}
				bt.mu.Unlock()
			})
		}
	}
}
