package s3gw

import (
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"
)

// CORS: a bucket's rules say which other origins' web pages may call it
// from a browser. Preflight OPTIONS requests are answered from the rules
// without authentication; the actual requests from a matching origin get
// Access-Control-* headers, errors included.

// The CORS operations.
var (
	opGetBucketCors    = &opSpec{"GetBucketCors", (*Server).getBucketCors}
	opPutBucketCors    = &opSpec{"PutBucketCors", (*Server).putBucketCors}
	opDeleteBucketCors = &opSpec{"DeleteBucketCors", (*Server).deleteBucketCors}
	opPreflight        = &opSpec{"PreflightRequest", (*Server).preflight}
)

// corsMethods are the methods a CORS rule may allow, as S3's.
var corsMethods = map[string]bool{"GET": true, "PUT": true, "HEAD": true, "POST": true, "DELETE": true}

var errCORSForbidden = &APIError{"AccessForbidden", http.StatusForbidden,
	"CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec."}

type corsRuleXML struct {
	ID             string   `xml:"ID,omitempty"`
	AllowedHeaders []string `xml:"AllowedHeader"`
	AllowedMethods []string `xml:"AllowedMethod"`
	AllowedOrigins []string `xml:"AllowedOrigin"`
	ExposeHeaders  []string `xml:"ExposeHeader"`
	MaxAgeSeconds  *int     `xml:"MaxAgeSeconds,omitempty"`
}

type corsXML struct {
	XMLName xml.Name
	Rules   []corsRuleXML `xml:"CORSRule"`
}

// parseCORS checks a CORS configuration as S3 does.
func parseCORS(in *corsXML) ([]CORSRule, error) {
	if len(in.Rules) == 0 {
		return nil, errMalformedXML
	}
	if len(in.Rules) > 100 {
		return nil, errInvalidRequest.withMessage("The number of CORS rules should not exceed allowed limit of 100 rules.")
	}
	out := make([]CORSRule, 0, len(in.Rules))
	for _, x := range in.Rules {
		if len(x.AllowedMethods) == 0 || len(x.AllowedOrigins) == 0 || len(x.ID) > 255 {
			return nil, errMalformedXML
		}
		for _, m := range x.AllowedMethods {
			if !corsMethods[m] {
				return nil, errInvalidRequest.withMessage("Found unsupported HTTP method in CORS config. Unsupported method is %s", m)
			}
		}
		for _, o := range x.AllowedOrigins {
			if strings.Count(o, "*") > 1 {
				return nil, errInvalidRequest.withMessage("AllowedOrigin %q can not have more than one wildcard.", o)
			}
		}
		for _, h := range x.AllowedHeaders {
			if strings.Count(h, "*") > 1 {
				return nil, errInvalidRequest.withMessage("AllowedHeader %q can not have more than one wildcard.", h)
			}
		}
		for _, h := range x.ExposeHeaders {
			if strings.Contains(h, "*") {
				return nil, errInvalidRequest.withMessage("ExposeHeader %q contains wildcard. We currently do not support wildcard for ExposeHeader.", h)
			}
		}
		rl := CORSRule{ID: x.ID, AllowedOrigins: x.AllowedOrigins, AllowedMethods: x.AllowedMethods,
			AllowedHeaders: x.AllowedHeaders, ExposeHeaders: x.ExposeHeaders, MaxAgeSeconds: -1}
		if x.MaxAgeSeconds != nil {
			if *x.MaxAgeSeconds < 0 {
				return nil, errMalformedXML
			}
			rl.MaxAgeSeconds = *x.MaxAgeSeconds
		}
		out = append(out, rl)
	}
	return out, nil
}

func (s *Server) getBucketCors(w http.ResponseWriter, r *http.Request, o *op) error {
	vb, _, err := s.access()
	if err != nil {
		return err
	}
	cfg, err := vb.BucketConfig(r.Context(), o.bucket)
	if err != nil {
		return err
	}
	if len(cfg.CORS) == 0 {
		return ErrNoSuchCORS
	}
	out := corsXML{XMLName: s3Name("CORSConfiguration")}
	for _, rl := range cfg.CORS {
		x := corsRuleXML{ID: rl.ID, AllowedHeaders: rl.AllowedHeaders, AllowedMethods: rl.AllowedMethods,
			AllowedOrigins: rl.AllowedOrigins, ExposeHeaders: rl.ExposeHeaders}
		if rl.MaxAgeSeconds >= 0 {
			age := rl.MaxAgeSeconds
			x.MaxAgeSeconds = &age
		}
		out.Rules = append(out.Rules, x)
	}
	return writeXML(w, http.StatusOK, out)
}

func (s *Server) putBucketCors(w http.ResponseWriter, r *http.Request, o *op) error {
	_, ab, err := s.access()
	if err != nil {
		return err
	}
	var req corsXML
	if err := readConfigXML(r, o, &req, true); err != nil {
		return err
	}
	rules, err := parseCORS(&req)
	if err != nil {
		return err
	}
	if err := ab.SetBucketCORS(r.Context(), o.bucket, rules); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) deleteBucketCors(w http.ResponseWriter, r *http.Request, o *op) error {
	_, ab, err := s.access()
	if err != nil {
		return err
	}
	if err := ab.SetBucketCORS(r.Context(), o.bucket, nil); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// matchCORS returns the first rule that allows origin to use method with
// headers (lower case), or nil.
func matchCORS(rules []CORSRule, origin, method string, headers []string) *CORSRule {
	for i := range rules {
		rl := &rules[i]
		if !matchAny(rl.AllowedOrigins, origin, false) {
			continue
		}
		ok := false
		for _, m := range rl.AllowedMethods {
			ok = ok || m == method
		}
		if !ok {
			continue
		}
		for _, h := range headers {
			if !matchAny(rl.AllowedHeaders, h, true) {
				ok = false
				break
			}
		}
		if ok {
			return rl
		}
	}
	return nil
}

// allowOrigin sets the headers that let origin read a response under rl.
func allowOrigin(h http.Header, rl *CORSRule, origin string) {
	if len(rl.AllowedOrigins) == 1 && rl.AllowedOrigins[0] == "*" {
		h.Set("Access-Control-Allow-Origin", "*")
	} else {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	h.Set("Access-Control-Allow-Methods", strings.Join(rl.AllowedMethods, ", "))
	if len(rl.ExposeHeaders) > 0 {
		h.Set("Access-Control-Expose-Headers", strings.Join(rl.ExposeHeaders, ", "))
	}
}

// corsHeaders sets the CORS headers of an actual request (one with an
// Origin) to a bucket with rules: Vary always, the Allow headers if a
// rule allows the origin and the method.
func corsHeaders(w http.ResponseWriter, r *http.Request, rules []CORSRule) {
	origin := r.Header.Get("Origin")
	if origin == "" || len(rules) == 0 {
		return
	}
	h := w.Header()
	h.Set("Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method")
	if rl := matchCORS(rules, origin, r.Method, nil); rl != nil {
		allowOrigin(h, rl, origin)
	}
}

// preflight answers an OPTIONS request from the bucket's rules. It needs
// no signature: browsers send none.
func (s *Server) preflight(w http.ResponseWriter, r *http.Request, o *op) error {
	origin := r.Header.Get("Origin")
	method := r.Header.Get("Access-Control-Request-Method")
	if origin == "" {
		return &APIError{"BadRequest", http.StatusBadRequest, "Insufficient information. Origin request header needed."}
	}
	if !corsMethods[method] {
		return &APIError{"BadRequest", http.StatusBadRequest, "Invalid Access-Control-Request-Method: " + method}
	}
	vb, ok := s.backend.(VersionedBackend)
	if !ok {
		return errCORSForbidden
	}
	cfg, err := vb.BucketConfig(r.Context(), o.bucket)
	if err != nil {
		return errCORSForbidden // nothing to tell about a missing bucket
	}
	var headers []string
	for _, v := range r.Header.Values("Access-Control-Request-Headers") {
		for _, f := range strings.Split(v, ",") {
			if f = strings.ToLower(strings.TrimSpace(f)); f != "" {
				headers = append(headers, f)
			}
		}
	}
	rl := matchCORS(cfg.CORS, origin, method, headers)
	if rl == nil {
		return errCORSForbidden
	}
	h := w.Header()
	h.Set("Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method")
	allowOrigin(h, rl, origin)
	if len(headers) > 0 {
		h.Set("Access-Control-Allow-Headers", strings.Join(headers, ", "))
	}
	if rl.MaxAgeSeconds >= 0 {
		h.Set("Access-Control-Max-Age", strconv.Itoa(rl.MaxAgeSeconds))
	}
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
	return nil
}
