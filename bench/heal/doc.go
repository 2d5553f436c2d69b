// Package heal measures repair on a real cluster: the throughput at which
// healing rebuilds the shards of a dead storage node, beside the raw
// limits of what repair does measured in the same run, and the GET latency
// clients see while it runs against without. It is what `make bench-heal`
// runs, through cmd/healbench (issue 12, item 9). It is a benchmark, not a
// test: it asserts no time.
//
// # What it does
//
// For each repair rate asked for (Config.Rates; by default storaged's own,
// 64 MiB/s), on a cluster of its own:
//
//   - starts six storaged processes on loopback (server.StartCluster):
//     three zones of two nodes, one of each a --meta --s3 node, 4+2
//     stripes of 1 MiB chunks, with --heal-interval and --repair-rate
//     given to the meta nodes;
//   - writes the data set (Config.Data in objects of Config.ObjectSize)
//     through a gateway with s3load's Prepare, and waits until two
//     healing passes found nothing to do;
//   - in the first round, measures the raw limits (bench/machine):
//     Reed-Solomon reconstruction as repair calls it, fdatasync'd disk
//     writes on the cluster's file system, one loopback TCP stream, and
//     SHA-256 on one core;
//   - GETs the data set at random for Config.Load (s3load, Reuse: the
//     same objects every phase, every byte checked): the healthy phase;
//   - SIGKILLs the last storage-only node, waits until the metadata
//     leader's gossip has it down, and GETs again: the node-down phase,
//     in which reads decode around the dead node and nothing is rebuilt
//     (its shards wait for it within its grace period; Round.DownRebuilt
//     shows it);
//   - removes the node from the layout through the admin API (what
//     `storectl node remove` calls), which starts a healing pass at once,
//     and reads the leader's /metrics every 100 ms: the repair's bytes are
//     the growth of cairn_heal_bytes_total{kind="repair"}, its time from
//     the removal to the last scrape that saw them grow, and it is over
//     when a later pass reports every stripe whole (no missing stripes,
//     cairn_heal_waiting_bytes 0); a third GET phase runs from the first
//     rebuilt byte until repair rebuilt what its pass planned (or
//     Config.Load passed): the repairing phase.
//
// The waiting bytes and stripe counts are a pass's tally, not live: the
// end is seen only when the next pass ends, Config.HealInterval later, so
// the throughput is taken at the last rebuilt byte and the time to a
// confirmed whole cluster is reported beside it.
//
// # What to keep in mind reading it
//
// The load generator, six storaged processes and the healer share the
// machine's cores; on two cores the GET latency during repair measures
// competition for CPU as much as for disk. The rate limiter lets one
// second of its rate through at once (its burst), so a repair of less than
// about twice the rate in bytes is hardly limited at all.
package heal
