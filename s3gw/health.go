package s3gw

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// The health probes, served on the S3 port without authentication. No
// bucket name may contain "_", so neither path can shadow a bucket.
const (
	HealthPrefix    = "/_cairn/health/"
	HealthLivePath  = HealthPrefix + "live"
	HealthReadyPath = HealthPrefix + "ready"
)

// IsHealthPath reports whether a request path is one of the health
// probes' (or under their prefix, which Health answers 404 for).
func IsHealthPath(path string) bool { return strings.HasPrefix(path, HealthPrefix) }

// Health answers load balancers' and orchestrators' probes, without
// authentication, with 200 or 503 and a small JSON body saying why:
//
//   - GET or HEAD HealthLivePath: 200 {"status":"live"} while the process
//     serves HTTP at all, whatever the rest of the cluster does (a
//     liveness probe that failed when the metadata leader is away would
//     make an orchestrator restart healthy gateways).
//   - GET or HEAD HealthReadyPath: 200 {"status":"ready"} when Ready
//     returns nil, else 503 {"status":"not ready","reason":"..."} with
//     Ready's error as the reason.
//
// Other methods get 405 with an Allow header, other paths under
// HealthPrefix 404. Responses are never cached. Safe for concurrent use
// when Ready is.
type Health struct {
	// Ready returns nil when the node can serve S3 requests, else why
	// not. It must answer at once (it runs on every probe): keep the
	// state up to date elsewhere and read it here. Nil means always ready.
	Ready func() error
}

// healthStatus is the JSON body of a probe's answer.
type healthStatus struct {
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

func (h *Health) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if r.URL.Path != HealthLivePath && r.URL.Path != HealthReadyPath {
		writeHealth(w, r, http.StatusNotFound, healthStatus{Status: "unknown probe", Reason: "the probes are " + HealthLivePath + " and " + HealthReadyPath})
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeHealth(w, r, http.StatusMethodNotAllowed, healthStatus{Status: "method not allowed", Reason: "use GET or HEAD"})
		return
	}
	if r.URL.Path == HealthLivePath {
		writeHealth(w, r, http.StatusOK, healthStatus{Status: "live"})
		return
	}
	if h.Ready != nil {
		if err := h.Ready(); err != nil {
			w.Header().Set("Retry-After", "2")
			writeHealth(w, r, http.StatusServiceUnavailable, healthStatus{Status: "not ready", Reason: err.Error()})
			return
		}
	}
	writeHealth(w, r, http.StatusOK, healthStatus{Status: "ready"})
}

func writeHealth(w http.ResponseWriter, r *http.Request, status int, body healthStatus) {
	b, _ := json.Marshal(body) // two strings: cannot fail
	b = append(b, '\n')
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(b)
	}
}
