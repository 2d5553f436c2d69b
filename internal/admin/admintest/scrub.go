package admintest

import (
	"context"

	"cairn/internal/nodeapi"
)

// scrubState is a fake node's scrub.
type scrubState struct {
	status nodeapi.ScrubStatus
	starts int
}

// ScrubStatus implements admin.NodeClient.
func (n *Node) ScrubStatus(ctx context.Context) (nodeapi.ScrubStatus, error) {
	if err := n.fault(ctx); err != nil {
		return nodeapi.ScrubStatus{}, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.scrub.status, nil
}

// StartScrub implements admin.NodeClient as a node does: a pass is asked
// for (Requested) unless one asked for is pending or running.
func (n *Node) StartScrub(ctx context.Context) (bool, nodeapi.ScrubStatus, error) {
	if err := n.fault(ctx); err != nil {
		return false, nodeapi.ScrubStatus{}, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	st := &n.scrub.status
	if st.Requested || st.Current != nil && st.Current.Requested {
		return false, *st, nil
	}
	st.Requested = true
	n.scrub.starts++
	return true, *st, nil
}

// SetScrub sets what the node's scrub reports.
func (n *Node) SetScrub(st nodeapi.ScrubStatus) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.scrub.status = st
}

// ScrubStarts returns how many passes StartScrub asked the node for.
func (n *Node) ScrubStarts() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.scrub.starts
}
