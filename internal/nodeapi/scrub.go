package nodeapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// pathScrub is the scrub route: GET its status, POST to start a pass.
const pathScrub = "/v1/scrub"

// Scrubbing is a storage node's scrub, as the node API serves it
// (ServerConfig.Scrub). internal/upkeep runs it; the node's wiring adapts
// it.
type Scrubbing interface {
	// ScrubStatus returns what the scrub is doing.
	ScrubStatus() ScrubStatus
	// StartScrub asks for a full pass now, in place of the one in
	// progress, and does not wait for it. It returns false, and changes
	// nothing, when a pass asked for this way is already running or
	// about to.
	StartScrub() bool
}

// ScrubStatus is what a node's scrub is doing.
type ScrubStatus struct {
	// Interval is how often a scheduled pass begins (storaged
	// --scrub-interval).
	Interval time.Duration
	// Requested: a pass was asked for (StartScrub) and has not begun.
	Requested bool
	// Current is the pass in progress, nil between passes; Last the
	// latest complete pass, nil before the first.
	Current, Last *ScrubPass
	// Next is when the next scheduled pass begins; zero while one runs.
	Next time.Time
	// Passes counts the passes completed since the node started.
	Passes int64
}

// ScrubPass is one scrub pass of a node.
type ScrubPass struct {
	Started time.Time
	Ended   time.Time // zero while it runs
	// Requested: asked for (storectl scrub start), not scheduled.
	Requested bool
	// Rate is the bound on its reads, bytes per second.
	Rate int64
	// Progress is the fraction done, 0 to 1: Bytes over the bytes the
	// node held when the pass began.
	Progress float64
	// Shards and Bytes were read and checked. Unverifiable counts shards
	// read that the store has nothing to check against; Corrupt those it
	// quarantined (healing rebuilds them); Unreadable those it could not
	// read (kept); Rewritten those whose record was damaged but content
	// right, written again.
	Shards, Bytes                                int64
	Unverifiable, Corrupt, Unreadable, Rewritten int64
}

// scrubJSON is ScrubStatus on the wire; the field names are the format.
type scrubJSON struct {
	IntervalSeconds float64        `json:"interval_seconds"`
	Requested       bool           `json:"requested"`
	Current         *scrubPassJSON `json:"current"`
	Last            *scrubPassJSON `json:"last"`
	Next            time.Time      `json:"next,omitzero"`
	Passes          int64          `json:"passes"`
}

type scrubPassJSON struct {
	Started      time.Time `json:"started"`
	Ended        time.Time `json:"ended,omitzero"`
	Requested    bool      `json:"requested"`
	Rate         int64     `json:"rate"`
	Progress     float64   `json:"progress"`
	Shards       int64     `json:"shards"`
	Bytes        int64     `json:"bytes"`
	Unverifiable int64     `json:"unverifiable"`
	Corrupt      int64     `json:"corrupt"`
	Unreadable   int64     `json:"unreadable"`
	Rewritten    int64     `json:"rewritten"`
}

// scrubStartJSON is the answer to POST /v1/scrub.
type scrubStartJSON struct {
	Started bool      `json:"started"`
	Scrub   scrubJSON `json:"scrub"`
}

func (s ScrubStatus) toJSON() scrubJSON {
	return scrubJSON{
		IntervalSeconds: s.Interval.Seconds(), Requested: s.Requested,
		Current: s.Current.toJSON(), Last: s.Last.toJSON(), Next: s.Next, Passes: s.Passes,
	}
}

func (j scrubJSON) status() ScrubStatus {
	return ScrubStatus{
		Interval:  time.Duration(j.IntervalSeconds * float64(time.Second)),
		Requested: j.Requested,
		Current:   j.Current.pass(), Last: j.Last.pass(), Next: j.Next, Passes: j.Passes,
	}
}

func (p *ScrubPass) toJSON() *scrubPassJSON {
	if p == nil {
		return nil
	}
	j := scrubPassJSON(*p)
	return &j
}

func (j *scrubPassJSON) pass() *ScrubPass {
	if j == nil {
		return nil
	}
	p := ScrubPass(*j)
	return &p
}

// scrub serves GET and POST /v1/scrub.
func (s *Server) scrub(w http.ResponseWriter, o op) error {
	if s.scrubbing == nil {
		return &apiError{code: codeNoSuchRoute, status: http.StatusNotFound, msg: "this node does not scrub"}
	}
	w.Header().Set("Content-Type", contentTypeJSON)
	if o.kind == opScrubStart {
		started := s.scrubbing.StartScrub()
		if started {
			s.log.Info("nodeapi: scrub pass asked for")
		}
		ans := scrubStartJSON{Started: started, Scrub: s.scrubbing.ScrubStatus().toJSON()}
		w.WriteHeader(http.StatusAccepted)
		return json.NewEncoder(w).Encode(ans)
	}
	return json.NewEncoder(w).Encode(s.scrubbing.ScrubStatus().toJSON())
}

// ScrubStatus returns what the node's scrub is doing.
func (c *Client) ScrubStatus(ctx context.Context) (ScrubStatus, error) {
	var j scrubJSON
	if err := c.scrubCall(ctx, http.MethodGet, http.StatusOK, &j); err != nil {
		return ScrubStatus{}, fmt.Errorf("nodeapi: scrub status of %s: %w", c.base, err)
	}
	return j.status(), nil
}

// StartScrub asks the node for a full scrub pass now; it does not wait for
// the pass. started is false when a pass asked for was already running
// (it goes on); status is the scrub's after the request.
func (c *Client) StartScrub(ctx context.Context) (started bool, status ScrubStatus, err error) {
	var j scrubStartJSON
	if err := c.scrubCall(ctx, http.MethodPost, http.StatusAccepted, &j); err != nil {
		return false, ScrubStatus{}, fmt.Errorf("nodeapi: start a scrub on %s: %w", c.base, err)
	}
	return j.Started, j.Scrub.status(), nil
}

func (c *Client) scrubCall(ctx context.Context, method string, want int, out any) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	resp, err := c.do(ctx, method, pathScrub, "", nil, emptyBodyHash)
	if err != nil {
		return ctxErr(ctx, err)
	}
	defer drain(resp)
	if resp.StatusCode != want {
		return refusal(resp)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxSmallBody)).Decode(out); err != nil {
		return fmt.Errorf("malformed answer: %w", ctxErr(ctx, err))
	}
	return nil
}
