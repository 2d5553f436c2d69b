package meta

import (
	"time"

	"github.com/hashicorp/raft"
)

// pacedLog is the raft log store (raftlog) made to wait, before each
// append, until the state machine is not applying a batch (at most
// maxPace).
//
// Why: raft appends to its log on the leader loop and hands each group of
// committed entries to the state machine as one batch, one bbolt
// transaction (two fsyncs). When appends (one fsync) run ahead of the state
// machine, the entries that arrive while a transaction commits are cut into
// many small batches that queue for the state machine, each paying for its
// own transaction, and batches stay small. Holding the next append until
// the state machine is idle lets proposals pile up meanwhile, so the next
// append and the next state machine transaction each take all of them:
// with many concurrent writers, several times the throughput, at about the
// same latency for a lone writer. It delays nothing else: heartbeats,
// votes and reads do not append.
type pacedLog struct {
	raft.LogStore
	fsm *fsm
}

// maxPace bounds the wait, in case a batch is slow.
const maxPace = 50 * time.Millisecond

var _ raft.LogStore = (*pacedLog)(nil)

func (p *pacedLog) StoreLog(l *raft.Log) error {
	p.fsm.waitIdle(maxPace)
	return p.LogStore.StoreLog(l)
}

func (p *pacedLog) StoreLogs(logs []*raft.Log) error {
	p.fsm.waitIdle(maxPace)
	return p.LogStore.StoreLogs(logs)
}
