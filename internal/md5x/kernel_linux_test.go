package md5x

import (
	"crypto/md5"
	"syscall"
	"testing"
)

// TestKernelReadsNoFurther puts each lane's blocks right before a page the
// process may not read: a kernel that loaded a byte past its last block
// would fault.
func TestKernelReadsNoFurther(t *testing.T) {
	if !haveKernel {
		t.Skip("no AVX-512")
	}
	page := syscall.Getpagesize()
	for _, blocks := range []int{1, 2, 3} {
		mem, err := syscall.Mmap(-1, 0, 2*page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
		if err != nil {
			t.Fatal(err)
		}
		if err := syscall.Mprotect(mem[page:], syscall.PROT_NONE); err != nil {
			t.Fatal(err)
		}
		for i := range mem[:page] {
			mem[i] = byte(i * 7)
		}
		// Two lanes whose data both end at the guard page.
		n := blocks * 64
		bufs := [][]byte{mem[page-n : page], mem[page-n : page]}
		got := runLanes(t, bufs)
		d := md5.New()
		d.Write(bufs[0])
		want, err := getState(d)
		if err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if got[i] != want.s {
				t.Errorf("%d blocks, lane %d: %x, want %x", blocks, i, got[i], want.s)
			}
		}
		if err := syscall.Munmap(mem); err != nil {
			t.Fatal(err)
		}
	}
}
