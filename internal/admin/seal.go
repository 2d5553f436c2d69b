package admin

import (
	"context"

	"cairn/internal/admin/adminapi"
)

// sealStatus answers GET seal: the flag from the metadata, the counts from
// the leader's healer (503 when it does not answer, as for GET heal).
func (s *Server) sealStatus(ctx context.Context) (*adminapi.SealStatus, error) {
	on, err := s.migrateFlag(ctx)
	if err != nil {
		return nil, err
	}
	hs, err := s.healStatus(ctx, false)
	if err != nil {
		return nil, err
	}
	return sealStatus(on, hs), nil
}

// sealMigrate answers POST seal/migrate: the flag is set (that is the
// request; an error there fails it), then a heal pass is asked for and
// the counts read, which may fail without failing the request: the
// leader's healer reads the flag at its next pass anyway.
func (s *Server) sealMigrate(ctx context.Context) (*adminapi.SealStatus, error) {
	mctx, cancel := s.call(ctx)
	err := s.cfg.Meta.SetSealMigration(mctx, true)
	cancel()
	if err != nil {
		return nil, fail(err, "")
	}
	s.log.Info("admin: seal migration asked for")
	ss := &adminapi.SealStatus{Migrate: true}
	if err := s.kick(ctx, false); err != nil {
		ss.HealError = err.Error()
		return ss, nil
	}
	hs, err := s.healStatus(ctx, false)
	if err != nil {
		ss.HealError = err.Error()
		ss.Kicked = true
		return ss, nil
	}
	ss = sealStatus(true, hs)
	ss.Kicked = true
	return ss, nil
}

func (s *Server) migrateFlag(ctx context.Context) (bool, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	on, err := s.cfg.Meta.SealMigration(ctx)
	if err != nil {
		return false, fail(err, "")
	}
	return on, nil
}

// sealStatus is the seal part of a heal status, with the flag as the
// metadata has it.
func sealStatus(on bool, hs *adminapi.HealStatus) *adminapi.SealStatus {
	t := &hs.Tally
	return &adminapi.SealStatus{
		Migrate:       on,
		Node:          hs.Node,
		Passes:        hs.Passes,
		Scanned:       hs.Scanned,
		Scanning:      hs.Scanning,
		Healing:       hs.Healing,
		Sealed:        t.Sealed,
		Unsealed:      t.Unsealed,
		Remaining:     hs.UnsealedRemaining,
		SealedStripes: hs.SealedStripes,
		Failed:        hs.SealFailed,
		Done:          on && hs.Passes > 0 && t.Unsealed == 0,
	}
}
