package s3gw

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The policy of a browser-based POST upload (HTML form): base64 JSON with
// an expiration and conditions on the form's fields, signed by a key
// (AWS's "Creating a POST policy"). Parsing and checking are pure: the
// handler (handlers_post.go) streams the form and calls them.

var errInvalidPolicyDocument = &APIError{"InvalidPolicyDocument", http.StatusBadRequest, "The content of the form does not meet the conditions specified in the policy document."}

// postPolicy is a parsed POST policy.
type postPolicy struct {
	expiration time.Time
	conds      []postCond
	// The content-length-range, if any (max -1: none).
	minSize, maxSize int64
}

// postCond is one condition: field (lower case, without '$') equals
// value, or starts with it.
type postCond struct {
	op    string // "eq" or "starts-with"
	field string
	value string
	raw   string // as written, for the error message
}

func invalidPolicy(format string, args ...any) error {
	return errInvalidPolicyDocument.withMessage("Invalid Policy: "+format, args...)
}

// parsePostPolicy decodes and parses the policy field.
func parsePostPolicy(b64 string) (*postPolicy, error) {
	doc, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, invalidPolicy("Invalid Base64 encoding.")
	}
	var raw struct {
		Expiration *string            `json:"expiration"`
		Conditions *[]json.RawMessage `json:"conditions"`
	}
	if err := json.Unmarshal(doc, &raw); err != nil {
		return nil, invalidPolicy("Invalid JSON.")
	}
	if raw.Expiration == nil {
		return nil, invalidPolicy("Policy missing expiration.")
	}
	if raw.Conditions == nil {
		return nil, invalidPolicy("Policy missing conditions.")
	}
	p := &postPolicy{maxSize: -1}
	if p.expiration, err = time.Parse(time.RFC3339, *raw.Expiration); err != nil {
		return nil, invalidPolicy("Invalid 'expiration' value: '%s'", *raw.Expiration)
	}
	for _, c := range *raw.Conditions {
		c = bytes.TrimSpace(c)
		if len(c) > 0 && c[0] == '{' {
			var m map[string]string
			if err := json.Unmarshal(c, &m); err != nil || len(m) != 1 {
				return nil, invalidPolicy("Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.")
			}
			for k, v := range m {
				p.conds = append(p.conds, newPostCond("eq", k, v))
			}
			continue
		}
		var l []json.RawMessage
		if err := json.Unmarshal(c, &l); err != nil || len(l) != 3 {
			return nil, invalidPolicy("Invalid condition: %s", c)
		}
		var op string
		if err := json.Unmarshal(l[0], &op); err != nil {
			return nil, invalidPolicy("Invalid condition: %s", c)
		}
		switch op = strings.ToLower(op); op {
		case "content-length-range":
			lo, err1 := jsonInt(l[1])
			hi, err2 := jsonInt(l[2])
			if err1 != nil || err2 != nil || lo < 0 || hi < lo {
				return nil, invalidPolicy("Invalid content-length-range: %s", c)
			}
			p.minSize, p.maxSize = lo, hi
		case "eq", "starts-with":
			var field, value string
			if json.Unmarshal(l[1], &field) != nil || json.Unmarshal(l[2], &value) != nil || !strings.HasPrefix(field, "$") {
				return nil, invalidPolicy("Invalid condition: %s", c)
			}
			p.conds = append(p.conds, newPostCond(op, field, value))
		default:
			return nil, invalidPolicy("Invalid condition: unknown operation %q", op)
		}
	}
	return p, nil
}

// newPostCond makes a condition on field (with or without its '$'),
// written as AWS's error messages quote it.
func newPostCond(op, field, value string) postCond {
	field = strings.TrimPrefix(field, "$")
	q, _ := json.Marshal([]string{op, "$" + field, value})
	raw := strings.ReplaceAll(string(q), `","`, `", "`)
	return postCond{op: op, field: strings.ToLower(field), value: value, raw: raw}
}

// jsonInt reads a JSON number or a string holding one (AWS takes both in a
// content-length-range).
func jsonInt(m json.RawMessage) (int64, error) {
	var s string
	if json.Unmarshal(m, &s) == nil {
		return strconv.ParseInt(s, 10, 64)
	}
	var n int64
	err := json.Unmarshal(m, &n)
	return n, err
}

// postExempt are the form fields a policy need not name.
func postExempt(name string) bool {
	switch name {
	case "policy", "x-amz-signature", "signature", "awsaccesskeyid", "file":
		return true
	}
	return strings.HasPrefix(name, "x-ignore-")
}

// check checks the form's fields (lower-case names) against the policy at
// now: not expired, every condition met, every field named by one.
// bucket is the bucket the form was posted to.
func (p *postPolicy) check(fields map[string]string, bucket string, now time.Time) error {
	denied := func(format string, args ...any) error {
		return errAccessDenied.withMessage("Invalid according to Policy: "+format, args...)
	}
	if !now.Before(p.expiration) {
		return denied("Policy expired.")
	}
	named := map[string]bool{}
	for _, c := range p.conds {
		named[c.field] = true
		v, ok := fields[c.field]
		if c.field == "bucket" {
			v, ok = bucket, true
		}
		switch {
		case !ok && !(c.op == "starts-with" && c.value == ""):
			return denied("Policy Condition failed: %s", c.raw)
		case c.op == "eq" && v != c.value:
			return denied("Policy Condition failed: %s", c.raw)
		case c.op == "starts-with" && !startsWithAny(c.field, v, c.value):
			return denied("Policy Condition failed: %s", c.raw)
		}
	}
	var extra []string
	for name := range fields {
		if !named[name] && !postExempt(name) {
			extra = append(extra, name)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return denied("Extra input fields: %s", strings.Join(extra, ", "))
	}
	return nil
}

// startsWithAny: a starts-with condition on Content-Type holds for each
// comma-separated type, as AWS's does.
func startsWithAny(field, v, prefix string) bool {
	if field != "content-type" {
		return strings.HasPrefix(v, prefix)
	}
	for _, t := range strings.Split(v, ",") {
		if !strings.HasPrefix(strings.TrimSpace(t), prefix) {
			return false
		}
	}
	return true
}

// sizeCheck wraps the file's reader to enforce a content-length-range
// while streaming: a read past max fails with EntityTooLarge, EOF before
// min with EntityTooSmall, so that the backend stores nothing.
type sizeCheck struct {
	r        io.Reader
	n        int64
	min, max int64 // max -1: none
}

func (s *sizeCheck) Read(b []byte) (int, error) {
	n, err := s.r.Read(b)
	s.n += int64(n)
	if s.max >= 0 && s.n > s.max {
		return n, errPostTooLarge
	}
	if errors.Is(err, io.EOF) && s.n < s.min {
		return n, errPostTooSmall
	}
	return n, err
}

var (
	errPostTooLarge = errEntityTooLarge.withMessage("Your proposed upload exceeds the maximum allowed size")
	errPostTooSmall = &APIError{"EntityTooSmall", http.StatusBadRequest, "Your proposed upload is smaller than the minimum allowed size"}
)
