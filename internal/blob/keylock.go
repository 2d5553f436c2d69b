package blob

import "sync"

// keyLock is a set of mutexes, one per key in use: operations on one shard
// are serialized, operations on different shards are not.
type keyLock struct {
	mu    sync.Mutex
	locks map[string]*keyLockEntry
}

type keyLockEntry struct {
	mu   sync.Mutex
	refs int
}

func (l *keyLock) lock(key string) {
	l.mu.Lock()
	if l.locks == nil {
		l.locks = make(map[string]*keyLockEntry)
	}
	e := l.locks[key]
	if e == nil {
		e = &keyLockEntry{}
		l.locks[key] = e
	}
	e.refs++
	l.mu.Unlock()
	e.mu.Lock()
}

func (l *keyLock) unlock(key string) {
	l.mu.Lock()
	e := l.locks[key]
	e.refs--
	if e.refs == 0 {
		delete(l.locks, key)
	}
	l.mu.Unlock()
	e.mu.Unlock()
}
