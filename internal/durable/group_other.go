//go:build !linux

package durable

import (
	"errors"
	"os"
)

// Elsewhere there is no syncfs: GroupFor returns nil and callers fsync
// each file.
const canSyncFS = false

func syncFS(*os.File) error { return errors.ErrUnsupported }

func deviceOf(*os.File) (uint64, error) { return 0, errors.ErrUnsupported }
