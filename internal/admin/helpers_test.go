package admin_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"cairn/internal/admin/adminapi"
	"cairn/internal/admin/admintest"
	"cairn/internal/blob"
)

var bg = context.Background()

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantCode checks that err is an answer with this status and code.
func wantCode(t testing.TB, err error, status int, code string) *adminapi.Error {
	t.Helper()
	var ae *adminapi.Error
	if !errors.As(err, &ae) {
		t.Fatalf("error %v, want a %d %s answer", err, status, code)
	}
	if ae.Status != status || ae.Code != code {
		t.Fatalf("answer %d %s (%q), want %d %s", ae.Status, ae.Code, ae.Message, status, code)
	}
	if ae.Message == "" {
		t.Fatalf("answer %d %s has no message", ae.Status, ae.Code)
	}
	return ae
}

// rawCall sends a request with the given Authorization header (none if
// empty) and returns the status and the body.
func rawCall(t testing.TB, c *admintest.Cluster, method, path, auth string, body io.Reader) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(bg, method, c.HTTP.URL+path, body)
	must(t, err)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := c.HTTP.Client().Do(req)
	must(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	must(t, err)
	return resp.StatusCode, resp.Header, b
}

// errorCode decodes an error body, checking its shape.
func errorCode(t testing.TB, body []byte) string {
	t.Helper()
	var e struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error == "" || e.Message == "" {
		t.Fatalf("error body %q: want {\"error\": code, \"message\": ...} (%v)", body, err)
	}
	return e.Error
}

// sixNodes starts a cluster with n1..n6, two per zone z1..z3, all in
// layout version 1.
func sixNodes(t testing.TB, opts admintest.Options) *admintest.Cluster {
	t.Helper()
	c := admintest.Start(t, opts)
	ids := []string{"n1", "n2", "n3", "n4", "n5", "n6"}
	for i, id := range ids {
		c.AddStorage(id, []string{"z1", "z2", "z3"}[i/2], 1)
	}
	c.SetLayout(ids...)
	return c
}

func nodeByID(t testing.TB, nodes []adminapi.Node, id string) adminapi.Node {
	t.Helper()
	i := slices.IndexFunc(nodes, func(n adminapi.Node) bool { return n.ID == id })
	if i < 0 {
		t.Fatalf("no node %s in %+v", id, nodes)
	}
	return nodes[i]
}

func hasWarning(ws []string, substr string) bool {
	return slices.ContainsFunc(ws, func(w string) bool { return strings.Contains(w, substr) })
}

func usage(capacity, used int64) blob.Usage {
	return blob.Usage{Capacity: capacity, Bytes: used, Free: capacity - used}
}
