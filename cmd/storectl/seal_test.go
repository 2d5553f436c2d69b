package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"cairn/internal/admin/adminapi"
	"cairn/internal/heal"
)

var bg = context.Background()

func TestSealStatusCommand(t *testing.T) {
	c := sixNodes(t)
	s := midway()
	s.Tally.Sealed, s.Tally.Unsealed, s.UnsealedRemaining = 70, 30, 30
	c.Heal.Set(s)
	x := newCLI(t, c)
	out := x.ok("seal", "status")
	for _, want := range []string{
		"Migration:  not asked for (storectl seal migrate",
		"Stripes:    100 live: 70 sealed, 30 unsealed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	var ss adminapi.SealStatus
	if err := json.Unmarshal([]byte(x.ok("--json", "seal", "status")), &ss); err != nil || ss.Sealed != 70 || ss.Unsealed != 30 || ss.Migrate {
		t.Fatalf("seal status --json: %+v %v", ss, err)
	}
	if out := x.ok("heal", "status"); !strings.Contains(out, "70 of 100 live stripes sealed; storectl seal migrate seals the rest") {
		t.Errorf("heal status does not show the seal:\n%s", out)
	}
	x.fails(2, []string{"seal", "status", "extra"}, "got 1 argument")
	x.fails(2, []string{"seal", "frob"}, "unknown command")
}

// TestSealMigrateCommand: seal migrate sets the flag and follows the
// migration, kicking passes, until a pass after the request finds no
// unsealed stripe.
func TestSealMigrateCommand(t *testing.T) {
	c := sixNodes(t)
	s := midway()
	s.Healing = false
	s.Tally.Sealed, s.Tally.Unsealed, s.UnsealedRemaining = 70, 30, 30
	c.Heal.Set(s) // a pass before the request
	kicks := 0
	c.Heal.OnKick(func(s *heal.Status) {
		kicks++
		s.Passes++
		s.SealMigration = true
		switch kicks {
		case 1: // the request's kick: nothing sealed yet
		case 2: // a pass counted 30 and sealed 20 of them
			s.SealedStripes, s.UnsealedRemaining = 20, 10
		case 3:
			s.Tally.Sealed, s.Tally.Unsealed, s.SealedStripes, s.UnsealedRemaining = 90, 10, 30, 0
		default:
			s.Tally.Sealed, s.Tally.Unsealed, s.UnsealedRemaining = 100, 0, 0
		}
	})
	x := newCLI(t, c)
	out := x.ok("seal", "migrate")
	for _, want := range []string{
		"The seal migration is asked for",
		"20 of 30 stripes sealed",
		"Every live stripe is sealed (100)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	if on, err := c.Store.SealMigration(bg); err != nil || !on {
		t.Fatalf("the flag is not set: %v %v", on, err)
	}
	if kicks < 4 {
		t.Errorf("%d kicks: the watch did not ask for passes", kicks)
	}

	// --no-wait and --json return at once.
	if out := x.ok("seal", "migrate", "--no-wait"); !strings.Contains(out, "storectl seal status") || strings.Contains(out, "Every live stripe") {
		t.Fatalf("--no-wait: %q", out)
	}
	var ss adminapi.SealStatus
	if err := json.Unmarshal([]byte(x.ok("--json", "seal", "migrate")), &ss); err != nil || !ss.Migrate || !ss.Kicked {
		t.Fatalf("--json seal migrate: %+v %v", ss, err)
	}
	if out := x.ok("seal", "status"); !strings.Contains(out, "Migration:  asked for") || !strings.Contains(out, "Done:") {
		t.Fatalf("seal status after the migration:\n%s", out)
	}

	// The flag cleared while following: an error.
	if err := c.Store.SetSealMigration(bg, false); err != nil {
		t.Fatal(err)
	}
	c.Heal.OnKick(func(s *heal.Status) {
		s.Passes++
		s.Tally.Unsealed = 5
		if err := c.Store.SetSealMigration(bg, false); err != nil {
			t.Error(err)
		}
	})
	x.fails(1, []string{"seal", "migrate"}, "no longer asked for")
}
