package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"cairn/internal/admin/adminapi"
)

// sealMigrateOptions are seal migrate's flags.
type sealMigrateOptions struct {
	noWait bool
}

func (a *app) sealCmd() *cobra.Command {
	c := group("seal", "Show how much data is sealed, and seal what is not",
		`A gateway seals every chunk before it leaves (storaged --seal, on by
default): the chunk is encrypted and authenticated under a key derived
from the tenant's master key, and its shards are named after a keyed name,
so a storage node sees neither plaintext nor a CID it could recognise.

Stripes written before sealing, or by gateways running with --seal=false
during a rolling upgrade, code their chunk in plaintext. storectl seal
migrate asks healing to seal them: each heal pass reads such a stripe,
checks it, seals it, writes the new shards at the repair rate (storaged
--repair-rate), and swaps the chunk's record to them. The old shards are
deleted as strays once no record has named them for storaged --gc-grace (a
reader may still be reading them). Run it once every gateway seals.`)
	var o sealMigrateOptions
	migrate := &cobra.Command{
		Use:   "migrate",
		Short: "Seal every unsealed stripe, and follow until none is left",
		Long: `Ask for the seal migration: a flag kept in the metadata, so that every
heal pass from now on seals the live unsealed stripes it finds, and a heal
pass now. Then follow it with a progress bar until a heal pass finds no
unsealed stripe left (interrupt with Ctrl-C: the migration goes on). With
--no-wait, return at once; storectl seal status follows it. With --json,
print the API's answer and return at once.

Exit status 1 if the request fails, or if the flag is found cleared while
following.`,
		Example: "  storectl seal migrate\n  storectl seal migrate --no-wait\n  storectl --json seal migrate",
		Args:    exactArgs(),
		RunE:    func(c *cobra.Command, _ []string) error { return a.runSealMigrate(c, o) },
	}
	migrate.Flags().BoolVar(&o.noWait, "no-wait", false, "return once the migration is asked for, without following it")
	c.AddCommand(migrate, &cobra.Command{
		Use:   "status",
		Short: "Show the stripes sealed and unsealed, and the migration's progress",
		Long: `Show whether the seal migration is asked for, how many live stripes are
sealed and unsealed as the metadata leader's healer counted them at its
latest pass, and what the migration has left.`,
		Example: "  storectl seal status\n  storectl --json seal status | jq .unsealed",
		Args:    exactArgs(),
		RunE:    func(c *cobra.Command, _ []string) error { return a.runSealStatus(c) },
	})
	return c
}

func (a *app) runSealStatus(c *cobra.Command) error {
	cl, ctx, cancel, err := a.client(c)
	if err != nil {
		return err
	}
	defer cancel()
	ss, err := cl.SealStatus(ctx)
	if err != nil {
		return a.failed(err)
	}
	if a.json {
		return a.printJSON(ss)
	}
	return sealTable(a.stdout, ss)
}

// sealTable prints a seal status for people.
func sealTable(w io.Writer, ss *adminapi.SealStatus) error {
	switch {
	case ss.Migrate:
		fmt.Fprintln(w, "Migration:  asked for: every heal pass seals the live unsealed stripes it finds")
	default:
		fmt.Fprintln(w, "Migration:  not asked for (storectl seal migrate seals the unsealed stripes)")
	}
	if ss.Passes == 0 {
		_, err := fmt.Fprintf(w, "Stripes:    unknown: the healer (node %s) has made no pass yet (storectl heal kick asks for one)\n", ss.Node)
		return err
	}
	total := ss.Sealed + ss.Unsealed
	fmt.Fprintf(w, "Stripes:    %d live: %d sealed, %d unsealed (heal pass %d on node %s, counted %s)\n",
		total, ss.Sealed, ss.Unsealed, ss.Passes, ss.Node, stamp(ss.Scanned))
	if ss.Migrate && ss.Unsealed > 0 {
		fmt.Fprintf(w, "Progress:   %s  %d of %d sealed since that pass\n", bar(ss.Unsealed-ss.Remaining, ss.Unsealed), ss.Unsealed-ss.Remaining, ss.Unsealed)
	}
	if ss.Failed > 0 {
		fmt.Fprintf(w, "Failed:     %d attempts since the healer started (the leader's log says why; the next pass tries again)\n", ss.Failed)
	}
	if ss.Done {
		_, err := fmt.Fprintln(w, "Done:       every live stripe is sealed; the old shards go once unnamed for --gc-grace")
		return err
	}
	return nil
}

func (a *app) runSealMigrate(c *cobra.Command, o sealMigrateOptions) error {
	cl, ctx, cancel, err := a.client(c)
	if err != nil {
		return err
	}
	defer cancel()
	ss, err := cl.SealMigrate(ctx)
	if err != nil {
		return a.failed(err)
	}
	if a.json {
		return a.printJSON(ss)
	}
	fmt.Fprintln(a.stdout, "The seal migration is asked for: every heal pass seals the live unsealed stripes it finds, at the repair rate;")
	fmt.Fprintln(a.stdout, "the old shards are deleted as strays once unnamed for --gc-grace.")
	if ss.HealError != "" {
		fmt.Fprintf(a.stdout, "The metadata leader's healer was not reached (%s): it starts at its next pass.\n", ss.HealError)
	}
	if o.noWait {
		_, err := fmt.Fprintln(a.stdout, "Follow it with storectl seal status.")
		return err
	}
	s := &sealWatch{a: a, cl: cl, start: ss.Passes, scr: newScreen(a.stdout)}
	return poll(a, c, "seal status", cl.SealStatus, s.step)
}

// sealWatch follows the seal migration through the seal status.
type sealWatch struct {
	a      *app
	cl     *adminapi.Client
	start  uint64 // the healer's passes when the migration was asked for
	scr    *screen
	total  int64  // the most unsealed stripes a pass found since
	kicked uint64 // the pass count at the last kick
}

// step shows one seal status: done once a pass that ended after the
// request found no unsealed stripe.
func (s *sealWatch) step(ss *adminapi.SealStatus, err error) (bool, error) {
	if err != nil {
		s.scr.show([]string{"No seal status, trying again: " + err.Error()})
		return false, nil
	}
	if !ss.Migrate {
		return true, fmt.Errorf("the seal migration is no longer asked for (was the flag cleared?); storectl seal migrate asks again")
	}
	idle := !ss.Scanning && !ss.Healing
	if ss.Passes <= s.start {
		s.kick(ss, idle)
		s.scr.show([]string{fmt.Sprintf("%s  waiting for a heal pass to count the unsealed stripes", bar(0, 1))})
		return false, nil
	}
	if ss.Unsealed == 0 {
		s.scr.show([]string{bar(1, 1)})
		_, err := fmt.Fprintf(s.a.stdout, "Every live stripe is sealed (%d); the old shards are deleted once unnamed for --gc-grace.\n", ss.Sealed)
		return true, err
	}
	s.total = max(s.total, ss.Unsealed)
	done := s.total - ss.Remaining
	line := fmt.Sprintf("%s %d of %d stripes sealed", bar(done, s.total), done, s.total)
	if ss.Remaining == 0 || idle {
		line += "; checking with a new heal pass"
	}
	if ss.Failed > 0 {
		line += fmt.Sprintf("; %d attempts failed (the leader's log says why; the next pass tries again)", ss.Failed)
	}
	s.scr.show([]string{line})
	s.kick(ss, idle)
	return false, nil
}

// kick asks for the next pass once the latest has ended, so that the
// migration goes on, and is checked, without waiting out the heal
// interval.
func (s *sealWatch) kick(ss *adminapi.SealStatus, idle bool) {
	if !idle || ss.Passes <= s.kicked && s.kicked != 0 {
		return
	}
	s.kicked = max(ss.Passes, 1)
	ctx, cancel := context.WithTimeout(context.Background(), s.a.timeout)
	defer cancel()
	_ = s.cl.Kick(ctx) // the healer also passes at its interval
}

// poll asks get every a.every (and at once), and hands each answer to
// step until it says done, the command's context ends (an interrupt: not
// an error), or the calls fail for longer than --timeout. what names the
// answer in that error.
func poll[T any](a *app, c *cobra.Command, what string, get func(context.Context) (T, error), step func(T, error) (bool, error)) error {
	ctx := c.Context()
	every := a.every
	if every <= 0 {
		every = time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	var failing time.Time // since when every call failed
	for {
		cctx, cancel := context.WithTimeout(ctx, a.timeout)
		v, err := get(cctx)
		cancel()
		if ctx.Err() != nil {
			return nil // interrupted
		}
		switch {
		case err == nil:
			failing = time.Time{}
		case failing.IsZero():
			failing = time.Now()
		case time.Since(failing) > a.timeout:
			return a.failed(fmt.Errorf("no %s for %v: %w", what, a.timeout, err))
		}
		done, err := step(v, err)
		if done || err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
