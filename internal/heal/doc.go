// Package heal keeps every stripe whole and where the layout wants it:
// repair rebuilds the shards a stripe lacks, rebalance and drain move
// shards to the nodes the current layout places them on. It is the one
// home of healing: the metadata leader runs it (Config.Leader), over the
// chunk table (meta.Store.Chunks), which says where each chunk's shards
// are, and changes that table only with compare-and-set
// (meta.Store.SetStripeNodes).
//
// # A pass
//
// Healer.Pass reads the current layout and gossip's view of the nodes
// (Config.Alive), lists what every live storage node holds (its
// inventory; a shard a record names on a node whose inventory lacks it is
// missing once the node, asked, says so), then reads every chunk record
// and plans each live stripe without I/O (planStripe):
//
//   - a shard stored nowhere ("" in the record) or on a node that left the
//     layout is lost: it is rebuilt from any K available shards, checked
//     by opening the chunk's seal (Config.Sealer) or, for an unsealed
//     stripe, against the chunk's CID (other sets of K are tried when a
//     node lies; shards that do not match the sums a sealed stripe
//     records are not used, and none is written that does not match), and
//     written to a node the layout wants that holds none of the stripe's
//     shards yet;
//   - a shard on a node that is down but still in the layout (within its
//     grace period) waits for its node, so that a reboot causes no repair
//     storm, unless the stripe has no redundancy left without it (K or
//     fewer available): then it is rebuilt on a live node too;
//   - an available shard on a node the layout no longer wants (a new node
//     ranks higher, a weight changed, the node drains) moves: it is copied
//     to a wanted node, the record is changed, and only then the old copy
//     is deleted. A shard stays where it is whenever its node is among
//     the wanted ones, so a layout change moves no more shards than the
//     new placement requires.
//
// A sealed stripe is placed by its keyed name (layout.StripeID), an
// unsealed one by its chunk's CID. The stripes with work are then healed,
// those with the fewest available shards first (at most Config.MaxQueue
// per pass), Config.Concurrency at a time, their writes bounded to
// Config.Rate bytes per second.
//
// When the seal migration is asked for (meta's seal migration flag, set by
// storectl seal migrate) and the healer has the sealing key, the pass then
// seals the live unsealed stripes that had no other work (seal.go): each
// is decoded and checked against its CID, its chunk sealed and coded anew,
// the new shards written where the layout places the keyed name, at the
// same rate, and the record's stripe swapped by compare-and-set
// (ReplaceStripe). The old shards are not deleted then: a reader may still
// hold the old stripe; named by no record, they go as strays.
//
// The pass then collects garbage: chunks unreferenced for Config.GCGrace
// are fenced (meta's Collect, which refuses a write that references them),
// their shards deleted, and their records forgotten. Last, the shards the
// inventories listed that no record named: one that a live stripe lacks
// at its recorded node is adopted (the record names this node for it);
// the others are strays, deleted once unnamed for GCGrace (a PUT in
// flight has shards it has not recorded yet). A sealed stripe's shard
// names only its keyed name, which ChunkByName maps to its record. Shards
// that are not shard names are never deleted as strays.
//
// Readers report what they found missing or wrong to a Reporter, which
// marks the shard as stored nowhere, for the next pass to rebuild; a
// report that a node returned wrong bytes as good ones counts a lie
// against its reputation.
//
// # Audits
//
// Storage nodes are run by contributors the tenant does not control: a
// node may lose shards while its inventory still lists them, or return
// altered bytes. The auditor, which Run starts beside the passes, checks
// them before a read needs them. Continually, at Config.AuditRate shards
// a second over the whole cluster (and within Config.Rate's bytes), it
// reads a page of live chunk records from a random key and audits one
// shard of each: one with a recorded sum (meta.Stripe.Sums, which sealed
// stripes record, erasure.Sealer.ShardSum of each shard as it was written,
// or the BLAKE3 sums of stripes sealed before keyed sums; one this healer
// cannot check, a keyed sum without Config.Sealer, is not picked;
// unsealed stripes are audited once the seal migration has sealed them),
// on a node that is up, the one audited least so far, so that audits
// spread evenly over the nodes. An audit reads the shard
// from its node and compares its size and sum: "not found" is missing,
// another size or sum (or the node saying its copy is corrupt) is
// corrupt; a node that does not answer is unreachable, which is
// liveness, gossip's business, and not counted against it. A failure
// counts only if the chunk's record, read again, still names the node for
// the shard (a shard moved, repaired or collected meanwhile is not the
// node's failure), and it marks the shard stored nowhere, so that the
// next pass rebuilds it.
//
// What the audits found goes to the nodes' reputation records in the
// metadata (meta.Reputation) every Config.ReputationFlush, in one raft
// entry for all nodes. Each record keeps a window of the node's recent
// checks (audits, and reads caught lying), halved whenever it holds more
// than meta.ReputationWindow. The ejection rule: a node whose window
// holds at least Config.EjectThreshold failures (N, default 10), and more
// than Config.EjectRatio of its checks (R, default 2%), is ejected. The
// leader takes it out of the layout exactly as storectl node remove does
// (layout.Remove through layout.Change), logs it at WARN with the
// evidence, records it in the node's reputation and starts a pass, which
// rebuilds the node's shards on the others from the rest of each stripe.
// An ejection is refused, and logged at ERROR, when it could lose data or
// leave too small a cluster: before any pass has counted the stripes,
// while another node of the layout is down, while the latest pass found
// stripes that would keep fewer than K shards without the node
// (Tally.Critical), or when fewer than K+1 storage nodes would take data
// (Config.K, those of new stripes). A node an operator approves again
// after its ejection starts a fresh window.
//
// # Crash safety
//
// A shard is written (durably) before the record names it, and deleted
// only after the record stopped naming it. A crash between the two leaves
// a shard that no record names: a stray, which costs space and nothing
// else. The record is changed by compare-and-set against what the pass
// read, so a gateway or another pass that changed it meanwhile wins, and
// the stripe is planned again on the next pass.
//
// # Status
//
// Status returns the latest pass's tally (stripes by health: healthy,
// missing 1..m, unreadable; bytes waiting for repair and for rebalance;
// shards waiting for a node; shards on each draining node) and what the
// healer did since it started, with its recent rate, an estimate of the
// time to finish, and the shards each draining node still holds; and
// the live stripes sealed and unsealed, with the migration's progress. A node
// is drained when a pass that began after it started draining counts no
// shard on it (Tally.DrainingByNode): then no stripe names it.
// Status.Audit is what the auditor did since it started. The Prometheus
// metrics (docs/metrics.md) read the same Status.
package heal
