package blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/ipfs/go-cid"

	"cairn/erasure"
	"cairn/internal/durable"
)

// On-disk layout; doc.go describes it.
const (
	shardsDir     = "shards"
	tmpDir        = "tmp"
	quarantineDir = "quarantine"
	versionFile   = "cairn-blob"
	versionText   = "cairn blob store 1\n"

	headerSize = 8
	// maxShard bounds what Get will read into memory: a file larger than
	// this cannot be a shard and is treated as corrupt.
	maxShard = 1 << 30

	dirPerm  = 0o750
	filePerm = 0o640
)

// shardHeader starts every shard file: magic "CAIRNSH" and format version 1.
var shardHeader = [headerSize]byte{'C', 'A', 'I', 'R', 'N', 'S', 'H', 1}

// errBadHeader marks a shard file whose header is not a version-1 header.
var errBadHeader = errors.New("blob: bad shard file header")

// DirStore is a Store on a local directory, one file per shard. It must be
// the only process using the directory.
type DirStore struct {
	dir   string
	locks keyLock
	// group, where the platform has one, makes shard files durable with
	// file system syncs shared by concurrent writers (of every store on
	// the file system) instead of two fsyncs per shard.
	group *durable.Group
	// fans is held for reading while a Put moves a shard file into its
	// fan-out directory (creating it if need be), and for writing while
	// Compact removes the empty ones.
	fans sync.RWMutex
}

var _ Store = (*DirStore)(nil)

// OpenDir opens the store in dir, creating the directory and its layout if
// needed, and removes temporary files left by a crash. It fails if dir
// holds a store of another format version.
func OpenDir(dir string) (*DirStore, error) {
	s := &DirStore{dir: dir}
	if err := s.ensureLayout(); err != nil {
		return nil, fmt.Errorf("open blob store %s: %w", dir, err)
	}
	g, err := durable.GroupFor(dir)
	if err != nil {
		return nil, fmt.Errorf("open blob store %s: %w", dir, err)
	}
	s.group = g
	b, err := os.ReadFile(filepath.Join(dir, versionFile))
	if err != nil {
		return nil, fmt.Errorf("open blob store %s: %w", dir, err)
	}
	if string(b) != versionText {
		return nil, fmt.Errorf("open blob store %s: unsupported format %q", dir, bytes.TrimSpace(b))
	}
	tmp := filepath.Join(dir, tmpDir)
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return nil, fmt.Errorf("open blob store %s: %w", dir, err)
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(tmp, e.Name())); err != nil {
			return nil, fmt.Errorf("open blob store %s: remove stale temporary file: %w", dir, err)
		}
	}
	return s, nil
}

// Dir returns the store's directory.
func (s *DirStore) Dir() string { return s.dir }

// ensureLayout creates whatever is missing of the directory layout (after
// first use, or after someone removed it) and makes the new entries
// durable.
func (s *DirStore) ensureLayout() error {
	return makeLayout(s.dir, versionText, []string{shardsDir, tmpDir, quarantineDir}, []string{shardsDir})
}

// name returns the file name of a shard and its fan-out directory. Files
// are named by the CID's string form (base32 for CIDv1, which is all lower
// case and safe on every file system), and fanned out by the last byte of
// the CID, the last byte of its digest, which is uniform for any
// cryptographic hash.
func name(id cid.Cid) (file, fan string, err error) {
	if !id.Defined() {
		return "", "", errors.New("blob: undefined CID")
	}
	if id.Version() != 1 {
		return "", "", fmt.Errorf("blob: CID %s: only CIDv1 is stored", id)
	}
	file = id.String()
	if len(file) > 240 {
		return "", "", fmt.Errorf("blob: CID %.40s...: too long for a file name", file)
	}
	k := id.KeyString()
	return file, fanName(k[len(k)-1]), nil
}

func fanName(b byte) string {
	const hex = "0123456789abcdef"
	return string([]byte{hex[b>>4], hex[b&15]})
}

func (s *DirStore) shardPath(file, fan string) string {
	return filepath.Join(s.dir, shardsDir, fan, file)
}

// Path returns the file that holds, or would hold, the shard id.
func (s *DirStore) Path(id cid.Cid) (string, error) {
	file, fan, err := name(id)
	if err != nil {
		return "", err
	}
	return s.shardPath(file, fan), nil
}

// Put implements Store.Put. The shard is written to a temporary file,
// synced, renamed into place and its directory synced, so a crash never
// leaves a partial shard visible.
func (s *DirStore) Put(ctx context.Context, id cid.Cid, data []byte) error {
	if err := Verify(id, data); err != nil {
		return fmt.Errorf("put shard %s: %w", id, err)
	}
	return s.PutComputed(ctx, id, data)
}

// PutComputed is Put for a caller that computed id from data itself, in
// this process, so that hashing the bytes again would only cost time (a
// gateway storing the shards it just encoded on a storage node of its own
// process). A wrong id stores a shard that every Get refuses.
func (s *DirStore) PutComputed(ctx context.Context, id cid.Cid, data []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	file, fan, err := name(id)
	if err != nil {
		return err
	}
	key := id.KeyString()
	s.locks.lock(key)
	defer s.locks.unlock(key)
	path := s.shardPath(file, fan)
	// Already held? With per-file fsyncs a shard file is visible only once
	// it is complete and durable (Puts of one CID are serialized), and one
	// of the right size holds this content unless the disk changed it,
	// which Get detects. With a Group the name can be visible before the
	// sync that covers the file ends, and a crash in between can leave a
	// torn file: check the bytes, and join a sync before saying yes.
	if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() && fi.Size() == headerSize+int64(len(data)) {
		if s.group == nil {
			return nil
		}
		if held, err := readShard(path, nil); err == nil && Verify(id, held) == nil {
			if err := s.group.Sync(ctx); err != nil {
				return fmt.Errorf("put shard %s: %w", id, err)
			}
			return nil
		}
	}
	for attempt := 0; ; attempt++ {
		err = s.write(ctx, path, file, data)
		if err == nil || attempt == 3 || !errors.Is(err, fs.ErrNotExist) {
			break
		}
		// A directory is missing: the shard's fan-out directory on its
		// first use, or more if an operator removed the store's directory.
		// Create what is missing and try again.
		if err = s.ensureLayout(); err != nil {
			break
		}
		if err = mkdirSync(filepath.Dir(path)); err != nil {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("put shard %s: %w", id, err)
	}
	return nil
}

// write stores data in a temporary file and renames it to path, durably:
// with a Group by one shared file system sync after the rename, else by an
// fsync of the file before it and one of the directory after.
func (s *DirStore) write(ctx context.Context, path, file string, data []byte) (err error) {
	f, err := os.CreateTemp(filepath.Join(s.dir, tmpDir), file+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = f.Chmod(filePerm); err != nil {
		return err
	}
	if _, err = f.Write(shardHeader[:]); err != nil {
		return err
	}
	if _, err = f.Write(data); err != nil {
		return err
	}
	if s.group == nil {
		if err = f.Sync(); err != nil {
			return err
		}
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = s.rename(tmp, path); err != nil {
		return err
	}
	if s.group != nil {
		// One file system sync makes both the bytes and the name durable.
		// A crash before it ends can leave the name with torn bytes; the
		// write was not acknowledged, and the CID check of every read
		// (and of Put's "already held") catches the file.
		return s.group.Sync(ctx)
	}
	return durable.SyncDir(filepath.Dir(path))
}

// rename moves a shard file written to tmp into place at path, creating
// its fan-out directory if it is missing (first use, or Compact removed
// it).
func (s *DirStore) rename(tmp, path string) error {
	s.fans.RLock()
	defer s.fans.RUnlock()
	err := os.Rename(tmp, path)
	if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if _, serr := os.Stat(tmp); serr != nil {
		return err // the temporary file is gone: so is the store's directory
	}
	if err := mkdirSync(filepath.Dir(path)); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// VerifiesReads reports that Get(id) returns only the bytes stored under
// id: true for content addresses, which Get checks, and false for shard
// names (erasure.ShardName), as version 1 files carry no checksum.
func (s *DirStore) VerifiesReads(id cid.Cid) bool { return !erasure.IsShardName(id) }

// Get implements Store.Get.
func (s *DirStore) Get(ctx context.Context, id cid.Cid, dst []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return dst[:0], err
	}
	file, fan, err := name(id)
	if err != nil {
		return dst[:0], fmt.Errorf("get shard: %w: %w", ErrNotFound, err)
	}
	path := s.shardPath(file, fan)
	data, err := readShard(path, dst)
	if err == nil {
		err = Verify(id, data)
	}
	if errors.Is(err, ErrCorrupt) || errors.Is(err, errBadHeader) {
		data, err = s.recheck(id, path, file, dst)
	}
	if err != nil {
		return data[:0], fmt.Errorf("get shard %s: %w", id, err)
	}
	return data, nil
}

// recheck reads a shard that failed verification again under its lock (a
// concurrent Put may have just replaced it) and quarantines it if it is
// still bad.
func (s *DirStore) recheck(id cid.Cid, path, file string, dst []byte) ([]byte, error) {
	key := id.KeyString()
	s.locks.lock(key)
	defer s.locks.unlock(key)
	data, err := readShard(path, dst)
	if err == nil {
		if err = Verify(id, data); err == nil {
			return data, nil
		}
	}
	if !errors.Is(err, ErrCorrupt) && !errors.Is(err, errBadHeader) {
		return data, err
	}
	if qerr := s.quarantine(path, file); qerr != nil && !errors.Is(qerr, fs.ErrNotExist) {
		return data, fmt.Errorf("%w (quarantine failed: %v)", ErrCorrupt, qerr)
	}
	if errors.Is(err, errBadHeader) {
		return data, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return data, ErrCorrupt
}

// quarantine moves a bad shard file to DIR/quarantine/<file>.<unix nanos>,
// out of the store but kept for inspection.
func (s *DirStore) quarantine(path, file string) error {
	q := filepath.Join(s.dir, quarantineDir)
	if err := os.MkdirAll(q, dirPerm); err != nil {
		return err
	}
	dst := filepath.Join(q, file+"."+strconv.FormatInt(time.Now().UnixNano(), 10))
	if err := os.Rename(path, dst); err != nil {
		return err
	}
	return durable.SyncDir(filepath.Dir(path))
}

// readShard reads a shard file's content into dst[:0]. A missing file is
// ErrNotFound; a bad header or truncated content is errBadHeader or
// ErrCorrupt.
func readShard(path string, dst []byte) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || isNotDir(err) {
			return dst[:0], ErrNotFound
		}
		return dst[:0], err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return dst[:0], err
	}
	size := fi.Size()
	if !fi.Mode().IsRegular() || size < headerSize || size > maxShard+headerSize {
		return dst[:0], errBadHeader
	}
	var h [headerSize]byte
	if _, err := io.ReadFull(f, h[:]); err != nil {
		return dst[:0], err
	}
	if h != shardHeader {
		return dst[:0], errBadHeader
	}
	n := int(size - headerSize)
	buf := slices.Grow(dst[:0], n)[:n]
	if _, err := io.ReadFull(f, buf); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return buf[:0], ErrCorrupt
		}
		return buf[:0], err
	}
	return buf, nil
}

// Has implements Store.Has.
func (s *DirStore) Has(ctx context.Context, id cid.Cid) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	file, fan, err := name(id)
	if err != nil {
		return false, nil
	}
	fi, err := os.Stat(s.shardPath(file, fan))
	switch {
	case err == nil:
		return fi.Mode().IsRegular(), nil
	case errors.Is(err, fs.ErrNotExist) || isNotDir(err):
		return false, nil
	default:
		return false, fmt.Errorf("has shard %s: %w", id, err)
	}
}

// Delete implements Store.Delete. A delete is not synced to disk: after a
// crash a deleted shard may reappear, and garbage collection deletes it
// again.
func (s *DirStore) Delete(ctx context.Context, id cid.Cid) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	file, fan, err := name(id)
	if err != nil {
		return nil
	}
	key := id.KeyString()
	s.locks.lock(key)
	defer s.locks.unlock(key)
	err = os.Remove(s.shardPath(file, fan))
	if err != nil && !errors.Is(err, fs.ErrNotExist) && !isNotDir(err) {
		return fmt.Errorf("delete shard %s: %w", id, err)
	}
	return nil
}

// Walk implements Store.Walk. Files that are not shards (names that are
// not CIDs, or too short for a header) are skipped.
func (s *DirStore) Walk(ctx context.Context, fn func(id cid.Cid, size int64) error) error {
	shards := filepath.Join(s.dir, shardsDir)
	fans, err := os.ReadDir(shards)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("walk shards: %w", err)
	}
	for _, fan := range fans {
		if !fan.IsDir() {
			continue
		}
		entries, err := os.ReadDir(filepath.Join(shards, fan.Name()))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return fmt.Errorf("walk shards: %w", err)
		}
		for _, e := range entries {
			if err := ctx.Err(); err != nil {
				return err
			}
			if !e.Type().IsRegular() {
				continue
			}
			id, err := cid.Decode(e.Name())
			if err != nil {
				continue
			}
			fi, err := e.Info()
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					continue // deleted meanwhile
				}
				return fmt.Errorf("walk shards: %w", err)
			}
			if fi.Size() < headerSize {
				continue
			}
			if err := fn(id, fi.Size()-headerSize); err != nil {
				return err
			}
		}
	}
	return nil
}

// Usage implements Store.Usage. It walks the store, so its cost grows with
// the number of shards: call it for status and metrics, not per request.
func (s *DirStore) Usage(ctx context.Context) (Usage, error) {
	var u Usage
	err := s.Walk(ctx, func(_ cid.Cid, size int64) error {
		u.Shards++
		u.Bytes += size
		return nil
	})
	if err != nil {
		return Usage{}, err
	}
	if u.Free, u.Capacity, err = space(s.dir); err != nil {
		return Usage{}, err
	}
	u.FS = fsID(s.dir)
	return u, nil
}

// mkdirSync creates dir if it is missing and makes its entry durable.
func mkdirSync(dir string) error {
	if err := os.Mkdir(dir, dirPerm); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil
		}
		return err
	}
	return durable.SyncDir(filepath.Dir(dir))
}

// Close implements Local; a DirStore keeps no file open.
func (s *DirStore) Close() error { return nil }
