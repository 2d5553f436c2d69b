package s3gw

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Bucket policies, in AWS's policy language: the common subset (docs/
// access.md). A policy is parsed once when it is put, and again on each
// request it governs; evaluation reads no clock or network: everything it
// needs is in a reqContext.

// maxPolicyLen is S3's bound on a bucket policy document.
const maxPolicyLen = 20 << 10

// principalARNPrefix is the ARN form of a Cairn access key as a policy
// principal: arn:aws:iam::cairn:user/<access key ID>. A bare access key ID
// names the same key.
const principalARNPrefix = "arn:aws:iam::cairn:user/"

// Policy is a parsed policy document.
type Policy struct {
	Version    string
	Statements []Statement
}

// Statement is one statement of a policy. Exactly one of Action and
// NotAction is set, and of Resource and NotResource; Principal and
// NotPrincipal are nil in an identity policy (one attached to a key).
type Statement struct {
	Sid          string
	Deny         bool
	Principal    *principals
	NotPrincipal *principals
	Action       []string // lower case
	NotAction    []string
	Resource     []string
	NotResource  []string
	Conditions   []condition
}

// principals is a set of principals: everyone (anonymous included), or
// access key IDs.
type principals struct {
	all  bool
	keys map[string]bool
}

func (p *principals) has(key string) bool {
	return p.all || (key != "" && p.keys[key])
}

// condition is one operator applied to one key: it holds when the
// request's value of key matches one of values (any of them).
type condition struct {
	op       string // without IfExists
	ifExists bool
	key      string // lower case
	values   []string
}

// policyError is a MalformedPolicy error with the reason.
func policyError(format string, args ...any) error {
	return errMalformedPolicy.withMessage(format, args...)
}

var errMalformedPolicy = &APIError{"MalformedPolicy", http.StatusBadRequest, "Policies must be valid JSON and the first byte must be '{'"}

// ParsePolicy parses a bucket policy for bucket, as PutBucketPolicy
// checks it: every statement needs a Principal and resources of this
// bucket. Errors are MalformedPolicy.
func ParsePolicy(doc []byte, bucket string) (*Policy, error) {
	return parsePolicy(doc, bucket)
}

// parsePolicy parses a policy document; bucket "" parses an identity
// policy (no Principal, any bucket).
func parsePolicy(doc []byte, bucket string) (*Policy, error) {
	if len(doc) > maxPolicyLen {
		return nil, policyError("Policy exceeds the maximum allowed document size.")
	}
	doc = bytes.TrimSpace(doc)
	if len(doc) == 0 || doc[0] != '{' {
		return nil, errMalformedPolicy
	}
	var raw struct {
		Version   string
		ID        string `json:"Id"`
		Statement json.RawMessage
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return nil, policyError("Policies must be valid JSON: %v", err)
	}
	p := &Policy{Version: raw.Version}
	switch raw.Version {
	case "2012-10-17", "2008-10-17":
	case "":
		p.Version = "2008-10-17"
	default:
		return nil, policyError("The policy must contain a valid version string")
	}
	if len(raw.Statement) == 0 {
		return nil, policyError("Missing required field Statement")
	}
	var stmts []json.RawMessage
	if raw.Statement[0] == '[' {
		if err := json.Unmarshal(raw.Statement, &stmts); err != nil {
			return nil, policyError("Statement must be an object or an array of objects")
		}
	} else {
		stmts = []json.RawMessage{raw.Statement}
	}
	if len(stmts) == 0 {
		return nil, policyError("Missing required field Statement")
	}
	sids := map[string]bool{}
	for _, m := range stmts {
		st, err := parseStatement(m, bucket)
		if err != nil {
			return nil, err
		}
		if st.Sid != "" {
			if sids[st.Sid] {
				return nil, policyError("Statement IDs (SID) in a single policy must be unique.")
			}
			sids[st.Sid] = true
		}
		p.Statements = append(p.Statements, st)
	}
	return p, nil
}

// stringOrList is a JSON string or array of strings.
type stringOrList []string

func (l *stringOrList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*l = []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("must be a string or a list of strings")
	}
	*l = many
	return nil
}

func parseStatement(m json.RawMessage, bucket string) (Statement, error) {
	var raw struct {
		Sid          string
		Effect       string
		Principal    json.RawMessage
		NotPrincipal json.RawMessage
		Action       *stringOrList
		NotAction    *stringOrList
		Resource     *stringOrList
		NotResource  *stringOrList
		Condition    map[string]map[string]stringOrList
	}
	dec := json.NewDecoder(bytes.NewReader(m))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return Statement{}, policyError("Invalid statement: %v", err)
	}
	st := Statement{Sid: raw.Sid}
	switch raw.Effect {
	case "Allow":
	case "Deny":
		st.Deny = true
	case "":
		return st, policyError("Missing required field Effect")
	default:
		return st, policyError("Invalid effect: %s", raw.Effect)
	}

	var err error
	switch {
	case raw.Principal != nil && raw.NotPrincipal != nil:
		return st, policyError("A statement cannot have both Principal and NotPrincipal")
	case raw.Principal != nil:
		st.Principal, err = parsePrincipal(raw.Principal)
	case raw.NotPrincipal != nil:
		st.NotPrincipal, err = parsePrincipal(raw.NotPrincipal)
	case bucket != "":
		return st, policyError("Missing required field Principal")
	}
	if err != nil {
		return st, err
	}

	switch {
	case (raw.Action == nil) == (raw.NotAction == nil):
		return st, policyError("A statement needs exactly one of Action and NotAction")
	case raw.Action != nil:
		st.Action, err = parseActions(*raw.Action)
	default:
		st.NotAction, err = parseActions(*raw.NotAction)
	}
	if err != nil {
		return st, err
	}

	switch {
	case (raw.Resource == nil) == (raw.NotResource == nil):
		return st, policyError("A statement needs exactly one of Resource and NotResource")
	case raw.Resource != nil:
		st.Resource, err = parseResources(*raw.Resource, bucket)
	default:
		st.NotResource, err = parseResources(*raw.NotResource, bucket)
	}
	if err != nil {
		return st, err
	}

	for op, byKey := range raw.Condition {
		base, ifExists := strings.CutSuffix(op, "IfExists")
		if !conditionOps[base] {
			return st, policyError("Invalid Condition type : %s", op)
		}
		for key, vals := range byKey {
			c := condition{op: base, ifExists: ifExists, key: strings.ToLower(key), values: vals}
			if err := checkCondition(c); err != nil {
				return st, err
			}
			st.Conditions = append(st.Conditions, c)
		}
	}
	return st, nil
}

func parsePrincipal(m json.RawMessage) (*principals, error) {
	bad := policyError("Invalid principal in policy")
	var star string
	if err := json.Unmarshal(m, &star); err == nil {
		if star != "*" {
			return nil, bad
		}
		return &principals{all: true}, nil
	}
	var byKind map[string]stringOrList
	if err := json.Unmarshal(m, &byKind); err != nil {
		return nil, bad
	}
	p := &principals{keys: map[string]bool{}}
	for kind, ids := range byKind {
		if kind != "AWS" {
			return nil, policyError("Invalid principal in policy: principals of kind %q are not supported (only \"AWS\")", kind)
		}
		for _, id := range ids {
			switch {
			case id == "*":
				p.all = true
			case strings.HasPrefix(id, principalARNPrefix) && len(id) > len(principalARNPrefix):
				p.keys[id[len(principalARNPrefix):]] = true
			case id != "" && !strings.ContainsAny(id, ":/*? "):
				p.keys[id] = true
			default:
				return nil, bad
			}
		}
	}
	if !p.all && len(p.keys) == 0 {
		return nil, bad
	}
	return p, nil
}

func parseActions(l stringOrList) ([]string, error) {
	if len(l) == 0 {
		return nil, policyError("Policy has an empty Action")
	}
	out := make([]string, len(l))
	for i, a := range l {
		a = strings.ToLower(a)
		if a != "*" && (!strings.HasPrefix(a, "s3:") || len(a) == 3) {
			return nil, policyError("Policy has invalid action")
		}
		out[i] = a
	}
	return out, nil
}

func parseResources(l stringOrList, bucket string) ([]string, error) {
	if len(l) == 0 {
		return nil, policyError("Policy has an empty Resource")
	}
	for _, res := range l {
		name, ok := strings.CutPrefix(res, "arn:aws:s3:::")
		if !ok {
			if res == "*" && bucket == "" {
				continue
			}
			return nil, policyError("Policy has invalid resource")
		}
		b, _, _ := strings.Cut(name, "/")
		if bucket != "" && !wildcardMatch(b, bucket, false) {
			return nil, policyError("Policy has invalid resource")
		}
	}
	return l, nil
}

// The condition operators Cairn evaluates (each also with IfExists).
var conditionOps = map[string]bool{
	"StringEquals": true, "StringNotEquals": true,
	"StringEqualsIgnoreCase": true, "StringNotEqualsIgnoreCase": true,
	"StringLike": true, "StringNotLike": true,
	"NumericEquals": true, "NumericNotEquals": true,
	"NumericLessThan": true, "NumericLessThanEquals": true,
	"NumericGreaterThan": true, "NumericGreaterThanEquals": true,
	"DateEquals": true, "DateNotEquals": true,
	"DateLessThan": true, "DateLessThanEquals": true,
	"DateGreaterThan": true, "DateGreaterThanEquals": true,
	"Bool": true, "IpAddress": true, "NotIpAddress": true, "Null": true,
}

// checkCondition checks that a condition's values parse for its
// operator.
func checkCondition(c condition) error {
	for _, v := range c.values {
		var err error
		switch {
		case strings.HasPrefix(c.op, "Numeric"):
			_, err = strconv.ParseFloat(v, 64)
		case strings.HasPrefix(c.op, "Date"):
			_, err = parsePolicyDate(v)
		case c.op == "Bool" || c.op == "Null":
			_, err = strconv.ParseBool(v)
		case c.op == "IpAddress" || c.op == "NotIpAddress":
			_, err = parsePrefix(v)
		}
		if err != nil {
			return policyError("Invalid value %q for condition %s on %s", v, c.op, c.key)
		}
	}
	return nil
}

func parsePolicyDate(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", v); err == nil {
		return t, nil
	}
	n, err := strconv.ParseInt(v, 10, 64) // epoch seconds
	return time.Unix(n, 0), err
}

func parsePrefix(v string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(v); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(v)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// reqContext is what a policy is evaluated against: who asks (principal
// "" for an anonymous request), the IAM action, the resource's ARN and
// the condition keys (lower case names) with their values.
type reqContext struct {
	principal string
	action    string // lower case, s3:...
	resource  string
	keys      map[string][]string
}

// newReqContext fills the global condition keys of r.
func newReqContext(r *http.Request, principal, action, resource string, now time.Time) *reqContext {
	rc := &reqContext{principal: principal, action: strings.ToLower(action), resource: resource, keys: map[string][]string{}}
	k := rc.keys
	k["aws:currenttime"] = []string{now.UTC().Format(time.RFC3339)}
	k["aws:epochtime"] = []string{strconv.FormatInt(now.Unix(), 10)}
	k["aws:securetransport"] = []string{strconv.FormatBool(r.TLS != nil)}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		k["aws:sourceip"] = []string{host}
	}
	if ua := r.UserAgent(); ua != "" {
		k["aws:useragent"] = []string{ua}
	}
	if ref := r.Referer(); ref != "" {
		k["aws:referer"] = []string{ref}
	}
	if principal != "" {
		k["aws:username"] = []string{principal}
		k["aws:principaltype"] = []string{"User"}
	} else {
		k["aws:principaltype"] = []string{"Anonymous"}
	}
	if acl := r.Header.Get("X-Amz-Acl"); acl != "" {
		k["s3:x-amz-acl"] = []string{acl}
	}
	return rc
}

// decision is the outcome of evaluating policies.
type decision int

const (
	decisionNone  decision = iota // no statement applies: implicit deny
	decisionAllow                 // an Allow applies and no Deny
	decisionDeny                  // an explicit Deny applies
)

// evaluate returns what policies (nil ones skipped) decide for rc: an
// explicit Deny in any of them wins, then an Allow in any.
func evaluate(rc *reqContext, policies ...*Policy) decision {
	d := decisionNone
	for _, p := range policies {
		if p == nil {
			continue
		}
		for i := range p.Statements {
			st := &p.Statements[i]
			if !st.applies(rc) {
				continue
			}
			if st.Deny {
				return decisionDeny
			}
			d = decisionAllow
		}
	}
	return d
}

func (st *Statement) applies(rc *reqContext) bool {
	switch {
	case st.Principal != nil && !st.Principal.has(rc.principal):
		return false
	case st.NotPrincipal != nil && st.NotPrincipal.has(rc.principal):
		return false
	case st.Action != nil && !matchAny(st.Action, rc.action, true):
		return false
	case st.NotAction != nil && matchAny(st.NotAction, rc.action, true):
		return false
	case st.Resource != nil && !matchAny(st.Resource, rc.resource, false):
		return false
	case st.NotResource != nil && matchAny(st.NotResource, rc.resource, false):
		return false
	}
	for _, c := range st.Conditions {
		if !c.holds(rc) {
			return false
		}
	}
	return true
}

func matchAny(patterns []string, s string, fold bool) bool {
	for _, p := range patterns {
		if wildcardMatch(p, s, fold) {
			return true
		}
	}
	return false
}

// holds evaluates a condition. A key the request lacks makes a negated
// operator (StringNotEquals, NotIpAddress, ...) hold and any other fail,
// as AWS does; IfExists makes any operator hold then.
func (c condition) holds(rc *reqContext) bool {
	vals, ok := rc.keys[c.key]
	if c.op == "Null" {
		want, _ := strconv.ParseBool(c.values[0])
		return want == !ok
	}
	negated := strings.Contains(c.op, "Not")
	if !ok {
		return c.ifExists || negated
	}
	for _, v := range vals {
		m := c.matches(v)
		if negated && m {
			return false
		}
		if !negated && m {
			return true
		}
	}
	return negated
}

// matches reports whether v matches any of c's values under the
// operator's positive form (StringNotLike matches as StringLike; holds
// negates).
func (c condition) matches(v string) bool {
	for _, w := range c.values {
		if c.match1(v, w) {
			return true
		}
	}
	return false
}

func (c condition) match1(v, w string) bool {
	switch op := strings.Replace(c.op, "Not", "", 1); {
	case op == "StringEquals":
		return v == w
	case op == "StringEqualsIgnoreCase":
		return strings.EqualFold(v, w)
	case op == "StringLike":
		return wildcardMatch(w, v, false)
	case op == "Bool":
		bv, err1 := strconv.ParseBool(v)
		bw, err2 := strconv.ParseBool(w)
		return err1 == nil && err2 == nil && bv == bw
	case op == "IpAddress":
		a, err := netip.ParseAddr(v)
		p, err2 := parsePrefix(w)
		return err == nil && err2 == nil && p.Contains(a.Unmap())
	case strings.HasPrefix(op, "Numeric"):
		a, err1 := strconv.ParseFloat(v, 64)
		b, err2 := strconv.ParseFloat(w, 64)
		return err1 == nil && err2 == nil && compare(op[len("Numeric"):], cmpFloat(a, b))
	case strings.HasPrefix(op, "Date"):
		a, err1 := parsePolicyDate(v)
		b, err2 := parsePolicyDate(w)
		return err1 == nil && err2 == nil && compare(op[len("Date"):], a.Compare(b))
	}
	return false
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compare applies a comparison named as in the operators (Equals,
// LessThan, ...) to the result of a three-way comparison.
func compare(name string, c int) bool {
	switch name {
	case "Equals":
		return c == 0
	case "LessThan":
		return c < 0
	case "LessThanEquals":
		return c <= 0
	case "GreaterThan":
		return c > 0
	case "GreaterThanEquals":
		return c >= 0
	}
	return false
}

// wildcardMatch matches s against pattern, where '*' matches any run of
// characters (none included) and '?' any one character; fold ignores
// ASCII case.
func wildcardMatch(pattern, s string, fold bool) bool {
	if fold {
		pattern, s = strings.ToLower(pattern), strings.ToLower(s)
	}
	// Iterative, with one backtrack point: linear in practice.
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
