package upkeep

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"cairn/internal/durable"
)

// Status is what the scrub is doing.
type Status struct {
	// Interval is Config.ScrubInterval.
	Interval time.Duration
	// Requested: ScrubNow asked for a pass that has not begun yet.
	Requested bool
	// Current is the pass in progress; nil between passes.
	Current *Pass
	// Last is the latest complete pass; nil before the first ends.
	Last *Pass
	// Next is when the next scheduled pass begins; zero while one runs.
	Next time.Time
	// Passes counts the passes completed since the Upkeep started.
	Passes int64
}

// Pass is one scrub pass: its figures so far, or in all once it ended.
type Pass struct {
	Started time.Time `json:"started"`
	// Ended is when it went through the whole store; zero while it runs.
	Ended time.Time `json:"ended,omitzero"`
	// Requested: asked for (ScrubNow, storectl scrub start) rather than
	// scheduled.
	Requested bool `json:"requested,omitempty"`
	// Rate is the bytes per second it reads at (its latest bound).
	Rate int64 `json:"rate"`
	// Held is the bytes of shards the store held when it began, what its
	// progress is measured against.
	Held int64 `json:"held"`
	// What it found: the blob.ScrubStats of its pieces, added up.
	Shards       int64 `json:"shards"`
	Bytes        int64 `json:"bytes"`
	Unverifiable int64 `json:"unverifiable"`
	Corrupt      int64 `json:"corrupt"`
	Unreadable   int64 `json:"unreadable"`
	Rewritten    int64 `json:"rewritten"`
}

// Progress is the fraction of the pass done, from 0 to 1: the bytes
// checked over the bytes held when it began (1 once it ended).
func (p *Pass) Progress() float64 {
	switch {
	case !p.Ended.IsZero():
		return 1
	case p.Held <= 0:
		return 0
	}
	return min(float64(p.Bytes)/float64(p.Held), 1)
}

// stateVersion is the format of the state file.
const stateVersion = 1

// state is what the state file keeps: the pass in progress with where it
// resumes, and the latest complete pass.
type state struct {
	V       int        `json:"v"`
	Current *savedPass `json:"current,omitempty"`
	Last    *Pass      `json:"last,omitempty"`
}

type savedPass struct {
	Pass
	// Cursor resumes the pass (blob.ScrubOptions.From).
	Cursor string `json:"cursor"`
}

// loadState reads the state file; a missing file is no state. A file in
// another format, or damaged, is reported and ignored: the scrub begins
// afresh, which costs a pass and loses nothing.
func loadState(path string) (state, error) {
	if path == "" {
		return state{}, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return state{}, nil
	}
	if err != nil {
		return state{}, err
	}
	var s state
	if err := json.Unmarshal(b, &s); err != nil {
		return state{}, fmt.Errorf("%s: %w", path, err)
	}
	if s.V != stateVersion {
		return state{}, fmt.Errorf("%s: format %d, want %d", path, s.V, stateVersion)
	}
	return s, nil
}

func saveState(path string, s state) error {
	if path == "" {
		return nil
	}
	s.V = stateVersion
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return durable.WriteFile(path, append(b, '\n'), 0o644)
}
