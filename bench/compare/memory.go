package compare

import (
	"context"
	"fmt"
	"sync"
	"time"

	"cairn/bench/load"
)

// MemoryResult is one server's resident memory under load and after it.
type MemoryResult struct {
	Server string `json:"server"`
	// Processes is how many processes the server has; with more than one
	// the figures are sums over them (each process's VmHWM is its own
	// peak, so their sum may exceed what was ever resident at once).
	Processes int `json:"processes"`
	// Load describes the load.
	Load string `json:"load"`
	// PeakRSS is the highest VmRSS sampled every 100 ms during the load
	// (preparing, timed phase and cleanup).
	PeakRSS int64 `json:"peak_rss_bytes"`
	// HWM is the kernel's VmHWM after the load: the most the process ever
	// had resident, since it started.
	HWM int64 `json:"vmhwm_bytes"`
	// IdleRSS is VmRSS after Idle seconds without load.
	IdleRSS int64   `json:"idle_rss_bytes"`
	Idle    float64 `json:"idle_seconds"`
	// MiBPerSec and Errors are the load's, to show it was a load.
	MiBPerSec float64 `json:"mib_per_s"`
	Errors    int64   `json:"errors"`
	Retried   int64   `json:"retried_responses"`
	// FirstErrors are the first failed operations' messages.
	FirstErrors []string `json:"first_errors,omitempty"`
}

// sampleEvery is the VmRSS sampling interval.
const sampleEvery = 100 * time.Millisecond

// measureMemory loads each server in turn with a 50/50 GET/PUT mix of
// 64 MiB objects, sampling its VmRSS, then reads each one's VmRSS once it
// has been idle for cfg.MemIdle (the idle periods overlap the next
// server's load).
func measureMemory(ctx context.Context, cfg Config, servers []*target) ([]MemoryResult, error) {
	w := Workload{Name: "mixed-64MiB", Kind: load.WorkloadMixed, Size: 64 << 20,
		Concurrency: cfg.MemConcurrency, GetRatio: 0.5, Objects: 32}
	desc := fmt.Sprintf("50/50 GET/PUT, 64MiB objects, concurrency %d, %v (32 objects prepared first)",
		cfg.MemConcurrency, cfg.MemDuration)
	results := make([]MemoryResult, len(servers))
	ended := make([]time.Time, len(servers))
	for i, p := range servers {
		results[i] = MemoryResult{Server: p.name, Processes: len(p.procs), Load: desc, Idle: cfg.MemIdle.Seconds()}
		stop := sampleRSS(p, &results[i].PeakRSS)
		res, err := load.Run(ctx, loadConfig(cfg, p, w, cfg.MemDuration))
		stop()
		ended[i] = time.Now()
		if err != nil {
			return results, fmt.Errorf("memory load on %s: %w", p.name, err)
		}
		results[i].MiBPerSec, results[i].Errors = res.Total.MiBPerSec, res.Total.Errors
		results[i].FirstErrors, results[i].Retried = res.FirstErrors, res.Retried
		m, err := p.mem()
		if err != nil {
			return results, err
		}
		results[i].HWM = m.Peak
	}
	for i, p := range servers {
		select {
		case <-time.After(time.Until(ended[i].Add(cfg.MemIdle))):
		case <-ctx.Done():
			return results, ctx.Err()
		}
		m, err := p.mem()
		if err != nil {
			return results, err
		}
		results[i].IdleRSS = m.RSS
	}
	return results, nil
}

// sampleRSS keeps the highest VmRSS of tg (summed over its processes) in
// *peak until stop is called.
func sampleRSS(tg *target, peak *int64) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(sampleEvery)
		defer t.Stop()
		for {
			if m, err := tg.mem(); err == nil {
				*peak = max(*peak, m.RSS)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}
