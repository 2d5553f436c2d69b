package blob

// SetCompactHook makes Compact call hook at each stage — "copied" (the
// live shards and needed tombstones are copied and synced), "recorded"
// (the compaction record is on the disk), "removed" (after each segment
// file is removed) — and stop there, as a crash would, if it returns an
// error.
func (s *LogStore) SetCompactHook(hook func(stage string) error) { s.compactHook = hook }
