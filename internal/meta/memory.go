package meta

// Activity returns a count that grows with every read transaction and
// every applied entry of the state machine: a caller that sees it
// unchanged over a while knows the store has been idle.
func (s *Store) Activity() uint64 {
	return s.fsm.views.Load() + s.fsm.entries.Load()
}

// ReleaseMemory drops the state file's pages from the process's resident
// set, for an idle store to call. bbolt reads its file through a
// read-only shared memory map, and every page a transaction touched
// stays mapped and counted as the process's resident memory: with many
// small objects kept inline that is hundreds of MiB. The pages stay in
// the page cache, so the next read maps them again without I/O while they
// are cached. Nothing is lost: bbolt writes through the file, never
// through the map.
func (s *Store) ReleaseMemory() error { return s.fsm.release() }
