package s3gw

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestHealth(t *testing.T) {
	var notReady error = errors.New("no storage layout yet")
	h := &Health{Ready: func() error { return notReady }}
	type answer struct {
		status int
		body   healthStatus
	}
	probe := func(method, path string) (answer, http.Header) {
		t.Helper()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
		var a answer
		a.status = rec.Code
		if method != http.MethodHead {
			if err := json.Unmarshal(rec.Body.Bytes(), &a.body); err != nil {
				t.Fatalf("%s %s: body %q: %v", method, path, rec.Body, err)
			}
		} else if rec.Body.Len() != 0 {
			t.Fatalf("HEAD %s: body %q", path, rec.Body)
		}
		if got := rec.Header().Get("Cache-Control"); got != "no-store" {
			t.Errorf("%s %s: Cache-Control %q", method, path, got)
		}
		return a, rec.Header()
	}
	for _, tc := range []struct {
		method, path string
		ready        bool
		want         answer
	}{
		{"GET", HealthLivePath, false, answer{200, healthStatus{Status: "live"}}},
		{"GET", HealthReadyPath, false, answer{503, healthStatus{Status: "not ready", Reason: "no storage layout yet"}}},
		{"GET", HealthReadyPath, true, answer{200, healthStatus{Status: "ready"}}},
		{"HEAD", HealthLivePath, false, answer{200, healthStatus{}}},
		{"HEAD", HealthReadyPath, false, answer{503, healthStatus{}}},
		{"HEAD", HealthReadyPath, true, answer{200, healthStatus{}}},
		{"POST", HealthReadyPath, true, answer{405, healthStatus{Status: "method not allowed", Reason: "use GET or HEAD"}}},
		{"GET", HealthPrefix + "other", true, answer{404, healthStatus{Status: "unknown probe", Reason: "the probes are " + HealthLivePath + " and " + HealthReadyPath}}},
	} {
		notReady = errors.New("no storage layout yet")
		if tc.ready {
			notReady = nil
		}
		got, hdr := probe(tc.method, tc.path)
		if got != tc.want {
			t.Errorf("%s %s (ready %v): got %+v, want %+v", tc.method, tc.path, tc.ready, got, tc.want)
		}
		if tc.want.status == 405 && hdr.Get("Allow") != "GET, HEAD" {
			t.Errorf("405 without Allow: GET, HEAD: %q", hdr.Get("Allow"))
		}
	}
	rec := httptest.NewRecorder()
	(&Health{}).ServeHTTP(rec, httptest.NewRequest("GET", HealthReadyPath, nil))
	if rec.Code != 200 {
		t.Errorf("Health without Ready: %d, want 200", rec.Code)
	}
	if !IsHealthPath(HealthLivePath) || !IsHealthPath(HealthReadyPath) || IsHealthPath("/_cairn/enroll") || IsHealthPath("/bucket/_cairn/health/live") {
		t.Error("IsHealthPath")
	}
}
