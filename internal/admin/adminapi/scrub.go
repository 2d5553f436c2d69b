package adminapi

import (
	"context"
	"net/http"
	"time"
)

// Scrub is the answer to GET scrub: the scrub of every storage node (each
// re-reads and checks the shards it holds, a pass every
// storaged --scrub-interval), and a summary of them.
type Scrub struct {
	// Nodes are the storage nodes, gossip's and the layout's, by ID.
	Nodes []NodeScrub `json:"nodes"`
	// Running counts the nodes with a pass in progress; Progress is the
	// fraction of those passes done together (their bytes checked over
	// the bytes they check), 0 when none runs.
	Running  int     `json:"running"`
	Progress float64 `json:"progress"`
	// Corrupt and Unreadable add up what each node's latest pass found:
	// the one in progress where one runs, else the latest complete one.
	Corrupt    int64 `json:"corrupt"`
	Unreadable int64 `json:"unreadable"`
	// CheckedSince is the earliest end of the nodes' latest complete
	// passes: every shard the answering nodes held then was checked
	// since. Zero when one of them has completed no pass yet, or none
	// answered.
	CheckedSince time.Time `json:"checked_since,omitzero"`
}

// NodeScrub is one storage node's scrub.
type NodeScrub struct {
	Node string `json:"node"`
	Zone string `json:"zone"`
	// Down: the node is not alive in gossip; it was not asked.
	Down bool `json:"down"`
	// Scrub is what the node answered; nil when it was not asked or did
	// not answer (Error says why).
	Scrub *ScrubStatus `json:"scrub,omitempty"`
	Error string       `json:"error,omitempty"`
}

// ScrubStatus is what one node's scrub is doing.
type ScrubStatus struct {
	// IntervalSeconds is how often a scheduled pass begins.
	IntervalSeconds float64 `json:"interval_seconds"`
	// Requested: a pass was asked for (storectl scrub start) and has not
	// begun yet.
	Requested bool `json:"requested"`
	// Current is the pass in progress, nil between passes; Last the latest
	// complete pass, nil before the first.
	Current *ScrubPass `json:"current"`
	Last    *ScrubPass `json:"last"`
	// Next is when the next scheduled pass begins; zero while one runs.
	Next time.Time `json:"next,omitzero"`
	// Passes counts the passes the node completed since it started.
	Passes int64 `json:"passes"`
}

// ScrubPass is one scrub pass of a node.
type ScrubPass struct {
	Started time.Time `json:"started"`
	Ended   time.Time `json:"ended,omitzero"` // zero while it runs
	// Requested: asked for (storectl scrub start), not scheduled.
	Requested bool `json:"requested"`
	// Rate bounds its reads, bytes per second.
	Rate int64 `json:"rate"`
	// Progress is the fraction done, 0 to 1: Bytes over the bytes the
	// node held when the pass began.
	Progress float64 `json:"progress"`
	// Shards and Bytes (of content) were read and checked.
	Shards int64 `json:"shards"`
	Bytes  int64 `json:"bytes"`
	// Unverifiable: read, with nothing to check them against (a format 1
	// store's shard names). Corrupt: quarantined; healing rebuilds them
	// from their stripes. Unreadable: a read failed (an I/O error); kept.
	// Rewritten: the record was damaged, the content right; written
	// again.
	Unverifiable int64 `json:"unverifiable"`
	Corrupt      int64 `json:"corrupt"`
	Unreadable   int64 `json:"unreadable"`
	Rewritten    int64 `json:"rewritten"`
}

// ScrubStart is the answer to POST scrub: what each storage node said.
type ScrubStart struct {
	Nodes []ScrubStarted `json:"nodes"`
}

// ScrubStarted is one storage node's answer to a scrub start.
type ScrubStarted struct {
	Node string `json:"node"`
	Zone string `json:"zone"`
	// Started: the node begins a full pass now, in place of the one in
	// progress. Running: it was running a pass asked for already, which
	// goes on. Down: gossip says it is not alive; it was not asked.
	// Error: it was asked and did not take the request.
	Started bool   `json:"started"`
	Running bool   `json:"running"`
	Down    bool   `json:"down"`
	Error   string `json:"error,omitempty"`
}

// ScrubStatus returns every storage node's scrub.
func (c *Client) ScrubStatus(ctx context.Context) (*Scrub, error) {
	return call[*Scrub](ctx, c, http.MethodGet, "scrub")
}

// StartScrub asks every live storage node for a full scrub pass now, and
// returns what each said; it does not wait for the passes (ScrubStatus
// follows them).
func (c *Client) StartScrub(ctx context.Context) (*ScrubStart, error) {
	return call[*ScrubStart](ctx, c, http.MethodPost, "scrub")
}
