package load

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"
)

// The workloads Run knows.
const (
	// WorkloadPut uploads a new object per operation.
	WorkloadPut = "put"
	// WorkloadGet uploads Objects objects first, then reads them at random.
	WorkloadGet = "get"
	// WorkloadMixed uploads Objects objects first, then reads one of them
	// (a fraction GetRatio of the operations) or uploads a new object.
	WorkloadMixed = "mixed"
	// WorkloadList uploads Objects objects under one prefix first, then
	// lists that prefix page by page with ListObjectsV2.
	WorkloadList = "list"
)

// Workloads lists the workload names, for help texts.
var Workloads = []string{WorkloadPut, WorkloadGet, WorkloadMixed, WorkloadList}

// Config says what Run does. DefaultConfig returns one with every field
// set; a zero field of a Config built by hand means the default where one
// is documented.
type Config struct {
	// Endpoint is the S3 endpoint: "host:port" (plain HTTP), or an http://
	// or https:// URL.
	Endpoint string

	// Endpoints, when not empty, replaces Endpoint with several endpoints
	// of one service (the gateways of a cluster, the nodes of a
	// distributed MinIO): the operations, uploads while preparing too,
	// take them in turn, as a round-robin load balancer in front of them
	// would send them. The bucket is made, checked and removed through
	// the first.
	Endpoints []string

	// RootCAs, when not nil, are the only certificate authorities the
	// client trusts on https:// endpoints (a benchmark's throwaway CA);
	// nil trusts the system's.
	RootCAs *x509.CertPool

	// AccessKey and SecretKey sign every request (AWS Signature V4).
	AccessKey, SecretKey string

	// Region is the region requests are signed for. Default us-east-1.
	Region string

	// Bucket holds the objects. Run creates it when it does not exist, and
	// then removes it again at the end unless Keep is set.
	Bucket string

	// Workload is one of Workloads.
	Workload string

	// Size is the size of every object in bytes, prepared or uploaded.
	Size int64

	// Concurrency is the number of operations in flight, in the timed phase
	// and while preparing. Default 16.
	Concurrency int

	// Duration bounds the timed phase when Count is 0: no operation starts
	// after it, and the ones in flight finish. Default 10s.
	Duration time.Duration

	// Count, when positive, makes the timed phase exactly Count operations
	// instead of Duration.
	Count int64

	// Objects is how many objects get, mixed and list upload before the
	// timed phase. Default: for list 2000; otherwise max(2×Concurrency, 16),
	// but no more than keep 4 GiB (and at least 4 objects).
	Objects int

	// GetRatio is the fraction of GETs in the mixed workload, in [0, 1].
	// Default 0.7.
	GetRatio float64

	// PageSize is the max-keys of each ListObjectsV2 request. Default 1000.
	PageSize int

	// PartSize, when positive, uploads objects larger than it by multipart
	// upload in parts of this size (at least 5 MiB). Zero uploads every
	// object with a single PUT.
	PartSize int64

	// SignPayload signs request bodies with streaming SigV4 chunk
	// signatures, what minio-go does by default over plain HTTP, which costs
	// a SHA-256 pass over the body at both ends. Without it bodies are sent
	// as UNSIGNED-PAYLOAD, as S3 clients do over TLS.
	SignPayload bool

	// NoVerify skips hashing what GETs read. Lengths are checked anyway.
	NoVerify bool

	// Keep leaves the objects (and a bucket Run created) in place.
	Keep bool

	// Prefix starts every key Run writes. Default "s3load/RUNID/", with a
	// RUNID unique to the run, so that runs never see each other's objects.
	Prefix string

	// Reuse makes get and mixed read the Objects objects of Size bytes
	// that an earlier Prepare (or a Run with Keep) left under Prefix,
	// instead of uploading them; what each holds follows from its key.
	// Prefix is required. Set Keep too, or Run removes them at the end.
	Reuse bool

	// Start, when not nil, holds the timed phase back until it is closed:
	// Run prepares (or takes the Reuse objects), then waits for it, so
	// that the timed phase begins the moment something else decides.
	Start <-chan struct{}

	// Prepared, when not nil, is called on Run's goroutine once the
	// objects are prepared (or taken for Reuse, which hashes them when
	// verifying), before Run waits for Start: the moment the run is ready.
	Prepared func()

	// Stop, when not nil, ends the timed phase once it is closed, as the
	// end of Duration does: no operation starts after it, and the ones in
	// flight finish and count.
	Stop <-chan struct{}

	// CancelSkipsCleanup makes Run return at once when ctx is cancelled,
	// leaving what it wrote, instead of removing it first (for callers
	// that are about to throw the whole server away).
	CancelSkipsCleanup bool

	// BeforeTimed and AfterTimed, when not nil, are called on Run's
	// goroutine just before the timed phase starts and just after its
	// last operation ended: to sample a server's CPU time around it, say.
	BeforeTimed, AfterTimed func()

	// Progress, when not nil, receives a progress line once a second.
	Progress io.Writer

	// ProgressTTY overwrites the progress line in place with "\r" (for a
	// terminal) instead of writing one line per second.
	ProgressTTY bool
}

// DefaultConfig returns a Config with every default set; the caller sets
// Endpoint, the keys and Bucket.
func DefaultConfig() Config {
	return Config{
		Region:      "us-east-1",
		Workload:    WorkloadPut,
		Size:        1 << 20,
		Concurrency: 16,
		Duration:    10 * time.Second,
		GetRatio:    0.7,
		PageSize:    1000,
	}
}

// maxPrepared bounds the bytes the default Objects prepares.
const maxPrepared = 4 << 30

// withDefaults returns c with its zero fields set to their defaults.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Region == "" {
		c.Region = d.Region
	}
	if c.Workload == "" {
		c.Workload = d.Workload
	}
	if c.Concurrency == 0 {
		c.Concurrency = d.Concurrency
	}
	if c.Duration == 0 && c.Count == 0 {
		c.Duration = d.Duration
	}
	if c.GetRatio == 0 && c.Workload == WorkloadMixed {
		c.GetRatio = d.GetRatio
	}
	if c.PageSize == 0 {
		c.PageSize = d.PageSize
	}
	if c.Objects == 0 {
		c.Objects = defaultObjects(c.Workload, c.Size, c.Concurrency)
	}
	return c
}

// defaultObjects is the default of Config.Objects.
func defaultObjects(workload string, size int64, concurrency int) int {
	if workload == WorkloadList {
		return 2000
	}
	n := max(2*concurrency, 16)
	if size > 0 {
		n = min(n, max(4, int(maxPrepared/size)))
	}
	return n
}

// Validate returns an error for each field that cannot be used.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	for _, ep := range c.endpoints() {
		if _, _, err := parseEndpoint(ep); err != nil {
			errs = append(errs, err)
		}
	}
	if c.AccessKey == "" || c.SecretKey == "" {
		bad("an access key and a secret key are needed")
	}
	if c.Bucket == "" {
		bad("a bucket is needed")
	}
	switch c.Workload {
	case WorkloadPut, WorkloadGet, WorkloadMixed, WorkloadList:
	default:
		bad("workload %q: want one of %s", c.Workload, strings.Join(Workloads, ", "))
	}
	if c.Size < 0 {
		bad("size %d: negative", c.Size)
	}
	if c.Concurrency < 1 {
		bad("concurrency %d: at least 1", c.Concurrency)
	}
	if c.Duration < 0 || c.Count < 0 {
		bad("duration and count cannot be negative")
	}
	if c.Duration == 0 && c.Count == 0 {
		bad("a duration or a count is needed")
	}
	if c.Objects < 0 {
		bad("objects %d: negative", c.Objects)
	}
	if c.GetRatio < 0 || c.GetRatio > 1 {
		bad("get ratio %v: want a fraction in [0, 1]", c.GetRatio)
	}
	if c.PageSize < 1 || c.PageSize > 1000 {
		bad("page size %d: want 1…1000", c.PageSize)
	}
	if c.Reuse && c.Prefix == "" {
		bad("reuse: the prefix the objects were prepared under is needed")
	}
	if c.Reuse && c.Workload != WorkloadGet && c.Workload != WorkloadMixed {
		bad("reuse: only get and mixed read prepared objects")
	}
	if c.PartSize != 0 && c.PartSize < 5<<20 {
		bad("part size %d: S3 parts are at least 5 MiB", c.PartSize)
	}
	return errors.Join(errs...)
}

// endpoints returns Endpoints, or Endpoint alone when it is empty.
func (c Config) endpoints() []string {
	if len(c.Endpoints) > 0 {
		return c.Endpoints
	}
	return []string{c.Endpoint}
}

// parseEndpoint splits an endpoint into the host:port minio-go wants and
// whether it uses TLS.
func parseEndpoint(ep string) (host string, secure bool, err error) {
	if ep == "" {
		return "", false, errors.New("an endpoint is needed (host:port or URL)")
	}
	if !strings.Contains(ep, "://") {
		ep = "http://" + ep
	}
	u, err := url.Parse(ep)
	if err != nil {
		return "", false, fmt.Errorf("endpoint %q: %w", ep, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", false, fmt.Errorf("endpoint %q: scheme %q, want http or https", ep, u.Scheme)
	}
	if u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return "", false, fmt.Errorf("endpoint %q: want host:port or scheme://host:port", ep)
	}
	return u.Host, u.Scheme == "https", nil
}
