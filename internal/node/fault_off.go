//go:build !faultinject

package node

import (
	"log/slog"

	"cairn/internal/blob"
)

// withFaults returns st. Only a build with the faultinject tag, for the
// integration tests, injects faults (fault.go).
func withFaults(st blob.Local, _ *slog.Logger) (blob.Local, error) { return st, nil }
