// Package upkeep keeps a storage node's store sound and lean, in the
// background: it scrubs it, re-reading and checking every shard at a
// bounded rate, and compacts it, giving the space of deleted shards back
// to the file system. A storage node runs one Upkeep over its store
// (internal/node wires it); nothing else calls Scrub or Compact.
//
// # Scrub
//
// A pass reads every shard the store holds (blob.Scrubber). Passes are
// scheduled: one begins Config.ScrubInterval after the previous one began
// (the first at once), and reads at the rate that makes it end in about
// four fifths of the interval — the bytes left to check over the time
// left — within [MinScrubRate, MaxScrubRate]. So a node that holds more
// reads faster, a small one finishes early and waits, and a pass that
// ran late (a restart, a store that grew) catches up. ScrubNow starts a
// full pass at once, at MaxScrubRate, in place of the pass in progress.
//
// What a pass finds corrupt is quarantined by the store: the store no
// longer holds it, so the healer's next pass, which lists every node's
// shards, finds it missing and rebuilds it from the rest of its stripe.
// No other report is needed. Each finding is logged (Warn) and counted
// (docs/metrics.md, cairn_scrub_*). A shard found unreadable (an I/O
// error) is logged and counted, and stays: a disk that fails every read
// must not make the node drop everything it holds.
//
// A pass saves where it got to (Config.StateFile) every Config.Checkpoint
// and resumes from there after a restart, with the figures it had; the
// latest complete pass is kept too, so the schedule survives restarts.
// The file is JSON, written atomically (durable.WriteFile):
//
//	{"v": 1,
//	 "current": {"started": "…", "requested": false, "rate": 1048576,
//	             "held": 0, "shards": 0, "bytes": 0, "unverifiable": 0,
//	             "corrupt": 0, "unreadable": 0, "rewritten": 0,
//	             "cursor": "log:2:1f000"},
//	 "last": {… the same, with "ended", without "cursor"}}
//
// "current" or "last" is absent when there is no such pass; "cursor" is
// the store's blob.ScrubStats.Next. A file with another "v", or that does
// not parse, is ignored with a warning, and a pass begins afresh.
//
// # Compaction
//
// Every Config.CompactInterval the store is compacted (blob.Compactor): a
// call with nothing to do costs no I/O, so the interval is short, and the
// space of shards that garbage collection deleted comes back within it.
//
// # Status
//
// Status says what the scrub is doing: the pass in progress (its
// progress, figures and rate), the latest complete pass, and when the
// next begins. The node API serves it to the admin API (storectl scrub
// status).
package upkeep
