package meta

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Object lock: a version's retention and legal hold, and the rules that
// keep a locked version from being deleted (lockRefusal, which every
// command that deletes or replaces a version calls) or its retention from
// being shortened (setObjectLock).

// lockRefusal says why o cannot be deleted at now (nil: it can): a legal
// hold, or a retention in force (GOVERNANCE gives way to bypass).
func lockRefusal(o *Object, now time.Time, bypass bool) error {
	if o.DeleteMarker {
		return nil
	}
	if o.LegalHold {
		return fmt.Errorf("%w: legal hold", ErrObjectLocked)
	}
	if o.LockMode != "" && o.RetainUntil.After(now) {
		if o.LockMode == LockGovernance && bypass {
			return nil
		}
		return fmt.Errorf("%w: %s retention until %s", ErrObjectLocked, o.LockMode, o.RetainUntil.Format(time.RFC3339))
	}
	return nil
}

func checkRetention(mode string, until, now time.Time) error {
	switch {
	case mode != LockGovernance && mode != LockCompliance:
		return fmt.Errorf("%w: retention mode %q", ErrInvalidArgument, mode)
	case !until.After(now):
		return fmt.Errorf("%w: the retain until date must be in the future", ErrInvalidArgument)
	}
	return nil
}

// LockChange is what SetObjectLock changes of a version: its retention
// (when Retention; Mode "" removes it) and its legal hold (when Hold).
type LockChange struct {
	Retention   bool      `json:"retention,omitempty"`
	Mode        string    `json:"mode,omitempty"`
	RetainUntil time.Time `json:"until,omitzero"`
	Hold        bool      `json:"hold,omitempty"`
	LegalHold   bool      `json:"legal_hold,omitempty"`
	// Bypass lets a GOVERNANCE retention be shortened or removed.
	Bypass bool `json:"bypass,omitempty"`
}

// SetObjectLock changes the retention or legal hold of a version (id "":
// the current one) of an object lock bucket: ErrNoSuchBucket,
// ErrLockNotEnabled, ErrNoSuchKey, ErrNoSuchVersion, ErrInvalidArgument;
// ErrObjectLocked to shorten or remove a COMPLIANCE retention in force,
// or a GOVERNANCE one without Bypass. It answers the version's ID.
func (s *Store) SetObjectLock(ctx context.Context, bucket, key, id string, c LockChange) (string, error) {
	err := checkBucket(bucket)
	if err == nil {
		err = checkKey(key)
	}
	if err == nil && c.Retention && c.Mode != "" {
		err = checkRetention(c.Mode, c.RetainUntil, s.cfg.Now())
	}
	var res any
	if err == nil {
		e := newCmd(opSetObjectLock, s.cfg.Now(), len(bucket)+len(key)+len(id)+32)
		e.str(bucket)
		e.str(key)
		e.str(id)
		e.uvarint(boolU(c.Retention) | boolU(c.Hold)<<1 | boolU(c.LegalHold)<<2 | boolU(c.Bypass)<<3)
		e.str(c.Mode)
		e.uvarint(uint64(unixNano(c.RetainUntil)))
		res, err = s.proposeResult(ctx, e.b)
	}
	if err != nil {
		return "", fmt.Errorf("set object lock of %s/%s %q: %w", bucket, key, id, err)
	}
	vid, _ := res.(string)
	return vid, nil
}

func (w *wtx) setObjectLock(d *dec) error {
	bucket, key, id := d.str(), d.str(), d.str()
	flags := d.uvarint()
	mode := d.str()
	until := time.Unix(0, int64(d.uvarint())).UTC()
	if err := args(d); err != nil {
		return err
	}
	c := LockChange{Retention: flags&1 != 0, Hold: flags&2 != 0, LegalHold: flags&4 != 0, Bypass: flags&8 != 0, Mode: mode, RetainUntil: until}
	if c.Mode == "" {
		c.RetainUntil = time.Time{}
	}
	if w.buckets.Get([]byte(bucket)) == nil {
		return reject(ErrNoSuchBucket)
	}
	cfg, err := readBucketConfig(w.bconfig, bucket)
	if err != nil {
		return err
	}
	if cfg.ObjectLock == nil {
		return reject(ErrLockNotEnabled)
	}
	vs := w.versionsOf(bucket, key)
	var v *version
	if id == "" {
		v, err = vs.current()
	} else {
		v, err = vs.find(id)
	}
	switch {
	case errors.Is(err, ErrInvalidArgument):
		return reject(err)
	case err != nil:
		return err
	case v == nil && id == "":
		return reject(ErrNoSuchKey)
	case v == nil:
		return reject(ErrNoSuchVersion)
	case v.hdr.DeleteMarker:
		return reject(fmt.Errorf("%w: a delete marker has no lock", ErrInvalidArgument))
	}
	hdr := v.hdr
	if c.Retention {
		if c.Mode != "" {
			if err := checkRetention(c.Mode, c.RetainUntil, w.now); err != nil {
				return reject(err)
			}
		}
		if hdr.LockMode != "" && hdr.RetainUntil.After(w.now) {
			weaker := c.Mode == "" || c.RetainUntil.Before(hdr.RetainUntil) ||
				(hdr.LockMode == LockCompliance && c.Mode != LockCompliance)
			if weaker && (hdr.LockMode == LockCompliance || !c.Bypass) {
				return reject(fmt.Errorf("%w: %s retention until %s cannot be shortened",
					ErrObjectLocked, hdr.LockMode, hdr.RetainUntil.Format(time.RFC3339)))
			}
		}
		hdr.LockMode, hdr.RetainUntil = c.Mode, c.RetainUntil
	}
	if c.Hold {
		hdr.LegalHold, hdr.HoldSet = c.LegalHold, true
	}
	chunks, err := decodeManifestChunks(v.raw)
	if err != nil {
		return err
	}
	hdr.Chunks = chunks
	m, err := encodeObject(hdr)
	if err != nil {
		return err
	}
	dst := w.versions
	if v.current {
		dst = w.objects
	}
	if err := dst.Put(v.key, m); err != nil {
		return err
	}
	w.result = hdr.ID()
	return nil
}
