//go:build !linux

package meta

// dropResident does nothing where MADV_DONTNEED is not used.
func dropResident(addr, n uintptr) error { return nil }
