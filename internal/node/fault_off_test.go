//go:build !faultinject

package node

import (
	"path/filepath"
	"testing"

	"cairn/internal/blob"
)

// TestNoFaultsInProduction: without the faultinject tag, CAIRN_FAULT
// changes nothing: the store served is the store opened.
func TestNoFaultsInProduction(t *testing.T) {
	t.Setenv("CAIRN_FAULT", "drop:1")
	st, err := blob.Open(filepath.Join(t.TempDir(), "shards"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got, err := withFaults(st, nil)
	if err != nil || got != st {
		t.Fatalf("withFaults returned %T, %v; want the store itself", got, err)
	}
}
