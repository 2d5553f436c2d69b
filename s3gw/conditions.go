package s3gw

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// conditions are the four conditional headers of a request, either the
// plain ones (GetObject, HeadObject) or the x-amz-copy-source-if-* ones.
type conditions struct {
	ifMatch, ifNoneMatch, ifModifiedSince, ifUnmodifiedSince string
}

func plainConditions(h http.Header) conditions {
	return conditions{h.Get("If-Match"), h.Get("If-None-Match"), h.Get("If-Modified-Since"), h.Get("If-Unmodified-Since")}
}

func copySourceConditions(h http.Header) conditions {
	return conditions{
		h.Get("X-Amz-Copy-Source-If-Match"), h.Get("X-Amz-Copy-Source-If-None-Match"),
		h.Get("X-Amz-Copy-Source-If-Modified-Since"), h.Get("X-Amz-Copy-Source-If-Unmodified-Since"),
	}
}

// result of evaluating conditions.
type condResult int

const (
	condPass        condResult = iota
	condNotModified            // 304 for GET and HEAD
	condFailed                 // 412 PreconditionFailed
)

// eval applies the conditions to an object in the order of RFC 9110 §13.2.2,
// which is also S3's documented precedence: If-Match, else
// If-Unmodified-Since; then If-None-Match, else If-Modified-Since. So an
// If-Match that matches wins over an If-Unmodified-Since that fails (pass),
// and an If-None-Match that matches wins over an If-Modified-Since that
// holds (304). Unparsable dates are ignored, as HTTP says.
func (c conditions) eval(info ObjectInfo) condResult {
	lm := info.LastModified.Truncate(time.Second)
	if c.ifMatch != "" {
		if !etagListMatches(c.ifMatch, info.ETag) {
			return condFailed
		}
	} else if t, err := http.ParseTime(c.ifUnmodifiedSince); err == nil && lm.After(t) {
		return condFailed
	}
	if c.ifNoneMatch != "" {
		if etagListMatches(c.ifNoneMatch, info.ETag) {
			return condNotModified
		}
	} else if t, err := http.ParseTime(c.ifModifiedSince); err == nil && !lm.After(t) {
		return condNotModified
	}
	return condPass
}

// etagListMatches reports whether a list of entity tags (or "*") names etag.
func etagListMatches(list, etag string) bool {
	etag = unquoteETag(etag)
	for _, t := range strings.Split(list, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || unquoteETag(t) == etag {
			return true
		}
	}
	return false
}

// byteRange is a satisfiable range of an object.
type byteRange struct{ start, length int64 }

func (b byteRange) contentRange(size int64) string {
	return "bytes " + strconv.FormatInt(b.start, 10) + "-" + strconv.FormatInt(b.start+b.length-1, 10) +
		"/" + strconv.FormatInt(size, 10)
}

// parseRange interprets a Range header against an object of size bytes.
// A nil range (and nil error) means the whole object: no header, a
// syntactically invalid one, or several ranges, all of which S3 ignores.
// A range that starts past the end is InvalidRange.
func parseRange(h string, size int64) (*byteRange, error) {
	spec, ok := strings.CutPrefix(strings.TrimSpace(h), "bytes=")
	if !ok || strings.Contains(spec, ",") {
		return nil, nil
	}
	first, last, ok := strings.Cut(strings.TrimSpace(spec), "-")
	if !ok {
		return nil, nil
	}
	if first == "" { // suffix: the last n bytes
		n, err := strconv.ParseInt(last, 10, 64)
		if err != nil || n < 0 {
			return nil, nil
		}
		if n == 0 || size == 0 {
			return nil, errInvalidRange
		}
		n = min(n, size)
		return &byteRange{size - n, n}, nil
	}
	start, err := strconv.ParseInt(first, 10, 64)
	if err != nil || start < 0 {
		return nil, nil
	}
	end := size - 1
	if last != "" {
		end, err = strconv.ParseInt(last, 10, 64)
		if err != nil || end < start {
			return nil, nil
		}
	}
	if start >= size {
		return nil, errInvalidRange
	}
	end = min(end, size-1)
	return &byteRange{start, end - start + 1}, nil
}

// parseCopySourceRange parses x-amz-copy-source-range, which, unlike Range,
// must be "bytes=first-last" within the source.
func parseCopySourceRange(h string, size int64) (byteRange, error) {
	bad := errInvalidArgument.withMessage("The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy")
	spec, ok := strings.CutPrefix(h, "bytes=")
	if !ok {
		return byteRange{}, bad
	}
	a, b, ok := strings.Cut(spec, "-")
	if !ok {
		return byteRange{}, bad
	}
	first, err1 := strconv.ParseInt(a, 10, 64)
	last, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || first < 0 || last < first {
		return byteRange{}, bad
	}
	if last >= size {
		return byteRange{}, errInvalidRange.withMessage("Range specified is not valid for source object of size: %d", size)
	}
	return byteRange{first, last - first + 1}, nil
}
