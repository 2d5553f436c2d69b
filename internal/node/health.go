package node

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// readiness is whether a gateway can serve S3 requests, as its layout
// loop last found: it has a storage layout, and it reached the metadata
// leader on its latest attempt. The health probe reads it
// (s3gw.Health.Ready) without waiting on the network. Safe for
// concurrent use.
type readiness struct {
	now func() time.Time

	mu  sync.Mutex
	err error     // nil: ready
	at  time.Time // when err was set
}

// readyStale is how long a readiness state stays believed: the layout loop
// sets it every few seconds, so an older one means the loop is stuck (a
// call to the leader that does not return).
const readyStale = 30 * time.Second

func newReadiness(now func() time.Time) *readiness {
	return &readiness{now: now, err: errors.New("starting: the gateway has not read the storage layout yet"), at: now()}
}

// set records the result of the latest attempt to reach the metadata
// leader and read the layout: nil when it succeeded.
func (r *readiness) set(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.err, r.at = err, r.now()
}

// ready returns nil when the gateway is ready, else why not.
func (r *readiness) ready() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if age := r.now().Sub(r.at); age > readyStale {
		return fmt.Errorf("the metadata leader has not answered the gateway for %v", age.Round(time.Second))
	}
	return r.err
}
