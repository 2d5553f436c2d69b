package blob

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ipfs/go-cid"
)

// Local is a Store on a disk of this machine.
type Local interface {
	Store
	Scrubber
	Compactor
	// PutComputed is Put for shards whose CID the caller computed from
	// the bytes in this process: they are not hashed again.
	PutComputed(ctx context.Context, id cid.Cid, data []byte) error
	// VerifiesReads reports that Get(id) returns only the bytes stored
	// under id: it checks them.
	VerifiesReads(id cid.Cid) bool
	// Dir is the store's directory.
	Dir() string
	// Close releases the store's files.
	Close() error
}

var (
	_ Local = (*DirStore)(nil)
	_ Local = (*LogStore)(nil)
)

// Open opens the shard store in dir in the format it was created with: a
// format-1 store (a file per shard) stays a DirStore; a new store, or a
// format-2 one, is a LogStore with the default options.
func Open(dir string) (Local, error) {
	b, err := os.ReadFile(filepath.Join(dir, versionFile))
	switch {
	case err == nil && string(b) == versionText:
		return OpenDir(dir)
	case err == nil || errors.Is(err, fs.ErrNotExist):
		return OpenLog(dir, LogOptions{})
	default:
		return nil, fmt.Errorf("open blob store %s: %w", dir, err)
	}
}
