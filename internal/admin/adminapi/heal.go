package adminapi

import "time"

// HealStatus is the answer to GET heal: what the cluster's healer, which
// runs on the metadata leader, found at its latest pass over the chunk
// table and did since it started. Field by field it is package heal's
// Status; the same figures are the node's cairn_heal_* metrics
// (docs/metrics.md).
type HealStatus struct {
	// Node is the ID of the node whose healer answered: the metadata
	// leader when it answered.
	Node string `json:"node"`
	// Healthy: the latest pass found every stripe whole and where the
	// layout wants it, with nothing left to do.
	Healthy bool `json:"healthy"`
	// Passes counts the passes over the chunk table since the healer
	// started (those whose scan completed); Scanning is true while one
	// reads the table, Healing while one heals what it found.
	Passes   uint64 `json:"passes"`
	Scanning bool   `json:"scanning"`
	Healing  bool   `json:"healing"`
	// PassStarted is when the latest pass began, Scanned when its scan
	// ended (when Tally was true), PassEnded when it ended (zero while it
	// runs).
	PassStarted time.Time `json:"pass_started"`
	Scanned     time.Time `json:"scanned"`
	PassEnded   time.Time `json:"pass_ended"`
	// LayoutVersion is the layout the latest pass healed towards.
	LayoutVersion uint64    `json:"layout_version"`
	Tally         HealTally `json:"tally"`

	// Totals since the healer started.
	RepairedShards int64 `json:"repaired_shards"`
	RepairedBytes  int64 `json:"repaired_bytes"`
	MovedShards    int64 `json:"moved_shards"`
	MovedBytes     int64 `json:"moved_bytes"`
	FailedShards   int64 `json:"failed_shards"`

	// Garbage collection: garbage chunks the latest pass found old enough
	// to collect, and since the healer started, chunks collected and
	// stray shards deleted.
	GarbageChunks   int64 `json:"garbage_chunks"`
	CollectedChunks int64 `json:"collected_chunks"`
	StraysDeleted   int64 `json:"strays_deleted"`

	// RateLimit bounds what repair and rebalance write, bytes per second
	// (storaged --repair-rate; 0: no bound). Rate is what they wrote over
	// the last 10 seconds.
	RateLimit int64   `json:"rate_limit"`
	Rate      float64 `json:"rate"`
	// Remaining is the bytes of the latest pass's work not yet done:
	// RepairRemaining to rebuild plus RebalanceRemaining to move.
	// ETASeconds is how long that takes at Rate (0 when idle or unknown).
	Remaining          int64   `json:"remaining"`
	RepairRemaining    int64   `json:"repair_remaining"`
	RebalanceRemaining int64   `json:"rebalance_remaining"`
	ETASeconds         float64 `json:"eta_seconds"`
	// DrainRemaining is, per draining node of Tally.DrainingByNode, the
	// shards it still holds: the latest scan's count less those moved off
	// it since.
	DrainRemaining map[string]int64 `json:"drain_remaining"`

	// The seal migration (SealStatus): SealMigration is the flag as the
	// latest pass read it; SealedStripes and SealFailed count, since the
	// healer started, the unsealed stripes it sealed and those it could
	// not in a pass; UnsealedRemaining is the latest pass's
	// Tally.Unsealed less those sealed since.
	SealMigration     bool  `json:"seal_migration"`
	SealedStripes     int64 `json:"sealed_stripes"`
	SealFailed        int64 `json:"seal_failed"`
	UnsealedRemaining int64 `json:"unsealed_remaining"`

	// Audit is what the leader's auditor did since the healer started;
	// each node's record is in Node.Audit.
	Audit HealAudit `json:"audit"`
}

// HealAudit is what the auditor did since the healer started.
type HealAudit struct {
	// RateLimit is the configured rate, shards audited per second over
	// the cluster (storaged --audit-rate; 0: audits are off).
	RateLimit float64 `json:"rate_limit"`
	// Audits by result: Passed, Missing and Corrupt (counted against the
	// node), Unreachable (the node did not answer: not counted), Stale
	// (the chunk's record changed under the audit: not counted).
	Passed      int64 `json:"passed"`
	Missing     int64 `json:"missing"`
	Corrupt     int64 `json:"corrupt"`
	Unreachable int64 `json:"unreachable"`
	Stale       int64 `json:"stale"`
	// NoSum counts the chunk records sampled that could not be audited:
	// written before stripes recorded their shards' sums.
	NoSum int64 `json:"no_sum"`
	// EjectThreshold and EjectRatio are the ejection rule (a node whose
	// recent checks hold at least EjectThreshold failures, more than
	// EjectRatio of them, leaves the layout; 0: never). Ejected counts
	// the nodes ejected; Refusal says why the latest ejection the rule
	// called for was not made.
	EjectThreshold int     `json:"eject_threshold"`
	EjectRatio     float64 `json:"eject_ratio"`
	Ejected        int64   `json:"ejected"`
	Refusal        string  `json:"refusal,omitempty"`
}

// HealTally is what a pass found in the chunk table.
type HealTally struct {
	// Stripes counts the live stripes scanned; Healthy those with every
	// shard available.
	Stripes int64 `json:"stripes"`
	Healthy int64 `json:"healthy"`
	// Missing counts, by the number of shards they lack (1 ... m), the
	// stripes that still have at least k.
	Missing map[int]int64 `json:"missing"`
	// Unreadable counts the stripes with fewer than k shards available.
	Unreadable int64 `json:"unreadable"`
	// RepairShards and RepairBytes: shards to rebuild, and their bytes.
	RepairShards int64 `json:"repair_shards"`
	RepairBytes  int64 `json:"repair_bytes"`
	// RebalanceShards and RebalanceBytes: shards to move to where the
	// layout wants them (rebalance and drain).
	RebalanceShards int64 `json:"rebalance_shards"`
	RebalanceBytes  int64 `json:"rebalance_bytes"`
	// Waiting counts shards whose work cannot start yet: their node is
	// down within its grace period, or no node can take them.
	Waiting int64 `json:"waiting"`
	// Draining counts the shards on draining nodes; DrainingByNode the
	// same per draining node of the layout the pass healed towards (0
	// once no stripe names it: the node can be stopped).
	Draining       int64            `json:"draining"`
	DrainingByNode map[string]int64 `json:"draining_by_node"`
	// CriticalByNode counts, per node, the readable stripes that would
	// have fewer than k shards available without it: the auditor ejects
	// no node that has any.
	CriticalByNode map[string]int64 `json:"critical_by_node"`
	// Sealed and Unsealed count the live stripes whose chunk is sealed,
	// and coded in plaintext (written before sealing, or by a gateway
	// with storaged --seal=false).
	Sealed   int64 `json:"sealed"`
	Unsealed int64 `json:"unsealed"`
}

// SealStatus is the answer to GET seal and POST seal/migrate: whether the
// seal migration is asked for, and how many live stripes are sealed and
// unsealed as the metadata leader's healer last counted them.
type SealStatus struct {
	// Migrate: the seal migration is asked for (the flag in the
	// metadata): every heal pass seals the live unsealed stripes it finds.
	Migrate bool `json:"migrate"`
	// Node is the ID of the node whose healer answered the counts.
	Node string `json:"node"`
	// Passes counts the heal passes since that healer started; Scanned
	// is when the latest pass's scan ended, which is when Sealed and
	// Unsealed were true; Scanning and Healing as in HealStatus.
	Passes   uint64    `json:"passes"`
	Scanned  time.Time `json:"scanned"`
	Scanning bool      `json:"scanning"`
	Healing  bool      `json:"healing"`
	// Sealed and Unsealed count the live stripes at the latest pass.
	Sealed   int64 `json:"sealed"`
	Unsealed int64 `json:"unsealed"`
	// Remaining is Unsealed less the stripes sealed since that scan:
	// what the migration has left, as far as the healer knows before its
	// next pass counts again.
	Remaining int64 `json:"remaining"`
	// SealedStripes and Failed count, since the healer started, the
	// stripes the migration sealed and the failed attempts (retried at
	// the next pass).
	SealedStripes int64 `json:"sealed_stripes"`
	Failed        int64 `json:"failed"`
	// Done: the migration is asked for and the latest pass found no
	// unsealed stripe left.
	Done bool `json:"done"`
	// Kicked, in the answer to POST seal/migrate only: a heal pass was
	// asked to start at once. When the healer could not be reached it is
	// false, and HealError says why; the flag is set all the same, and
	// the leader's healer acts on it at its next pass.
	Kicked    bool   `json:"kicked,omitempty"`
	HealError string `json:"heal_error,omitempty"`
}
