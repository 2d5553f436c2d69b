package admin_test

import (
	"fmt"
	"strings"
	"testing"

	"cairn/internal/admin/adminapi"
	"cairn/internal/admin/admintest"
	"cairn/internal/heal"
	"cairn/internal/meta"
)

// TestSealStatusAndMigrate: GET seal answers the flag from the metadata
// and the healer's counts; POST seal/migrate sets the flag, which stays
// set, and asks for a heal pass.
func TestSealStatusAndMigrate(t *testing.T) {
	c := sixNodes(t, admintest.Options{})
	s := healing()
	s.Tally.Sealed, s.Tally.Unsealed = 60, 40
	s.SealedStripes, s.SealFailed, s.UnsealedRemaining = 0, 0, 40
	c.Heal.Set(s)
	cl := c.Client()
	ss, err := cl.SealStatus(bg)
	must(t, err)
	if ss.Migrate || ss.Sealed != 60 || ss.Unsealed != 40 || ss.Remaining != 40 || ss.Done || ss.Node != admintest.HealNode || ss.Passes != 3 {
		t.Fatalf("seal status %+v", ss)
	}
	c.Heal.OnKick(func(s *heal.Status) {
		s.Passes++
		s.SealMigration = true
		s.SealedStripes, s.UnsealedRemaining = 40, 0
	})
	ss, err = cl.SealMigrate(bg)
	must(t, err)
	if !ss.Migrate || !ss.Kicked || ss.HealError != "" || ss.SealedStripes != 40 || ss.Remaining != 0 || ss.Done {
		t.Fatalf("migrate answered %+v", ss)
	}
	if on, err := c.Store.SealMigration(bg); err != nil || !on {
		t.Fatalf("the flag is not set in the metadata: %v %v", on, err)
	}
	if kicks, _ := c.Heal.Kicks(); kicks != 1 {
		t.Fatalf("%d kicks, want 1", kicks)
	}
	// A pass that finds nothing unsealed: done.
	s.Passes, s.Tally.Sealed, s.Tally.Unsealed, s.SealedStripes, s.UnsealedRemaining = 5, 100, 0, 40, 0
	c.Heal.Set(s)
	ss, err = cl.SealStatus(bg)
	must(t, err)
	if !ss.Migrate || !ss.Done || ss.Unsealed != 0 || ss.Sealed != 100 {
		t.Fatalf("seal status after the migration %+v", ss)
	}

	// The healer does not answer: GET fails as GET heal does; POST still
	// sets the flag and says the healer was not reached.
	c.Heal.SetErr(fmt.Errorf("no leader answered: %w", meta.ErrNotLeader))
	if _, err := cl.SealStatus(bg); err == nil {
		t.Fatal("seal status without a healer succeeded")
	}
	ss, err = cl.SealMigrate(bg)
	must(t, err)
	if !ss.Migrate || ss.Kicked || !strings.Contains(ss.HealError, "no leader answered") {
		t.Fatalf("migrate without a healer answered %+v", ss)
	}

	code, hdr, body := rawCall(t, c, "GET", "/v1/admin/seal/migrate", "Bearer "+c.Token, nil)
	if code != 405 || hdr.Get("Allow") != "POST" || errorCode(t, body) != adminapi.CodeMethodNotAllowed {
		t.Fatalf("GET seal/migrate: %d %q %s", code, hdr.Get("Allow"), body)
	}
	code, _, body = rawCall(t, c, "POST", "/v1/admin/seal", "Bearer "+c.Token, nil)
	if code != 405 {
		t.Fatalf("POST seal: %d %s", code, body)
	}
	code, _, _ = rawCall(t, c, "POST", "/v1/admin/seal/migrate", "Bearer wrong", nil)
	if code != 401 {
		t.Fatalf("migrate with a wrong token: %d", code)
	}
}
