package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCID(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run([]string{"cid", empty}, nil, &out); err != nil {
		t.Fatal(err)
	}
	// The raw CID of no bytes, as IPFS gives it.
	if want := "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku  " + empty + "\n"; out.String() != want {
		t.Fatalf("got %q, want %q", out.String(), want)
	}
	out.Reset()
	if err := run([]string{"cid", "-"}, strings.NewReader("hello"), &out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "bafkrei") {
		t.Fatalf("one-chunk input: %q, want a raw CID", out.String())
	}
	if err := run([]string{"frobnicate"}, nil, &out); err == nil || !strings.Contains(err.Error(), "storectl --help") {
		t.Fatalf("unknown command: %v", err)
	}
}
