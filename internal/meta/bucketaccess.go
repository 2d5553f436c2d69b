package meta

import "fmt"

// A bucket's access control, kept in its BucketConfig: the bucket policy,
// the canned ACL and the CORS rules. The gateway checks their contents
// (s3gw parses the policy and the ACL names); the store checks only their
// bounds.

// Bounds of the access parts, as S3's.
const (
	MaxPolicyLen = 20 << 10
	MaxCORSRules = 100
)

// The canned ACLs a bucket can hold ("" is private).
var cannedACLs = map[string]bool{
	"": true, "private": true, "public-read": true, "public-read-write": true,
	"authenticated-read": true,
}

// CORSRule is one rule of a bucket's CORS configuration.
type CORSRule struct {
	ID             string   `json:"id,omitempty"`
	AllowedOrigins []string `json:"origins"`
	AllowedMethods []string `json:"methods"`
	AllowedHeaders []string `json:"headers,omitempty"`
	ExposeHeaders  []string `json:"expose,omitempty"`
	MaxAgeSeconds  int      `json:"max_age,omitempty"`
}

func checkAccessConfig(part BucketConfigPart, cfg *BucketConfig) error {
	switch part {
	case ConfigPolicy:
		if len(cfg.Policy) > MaxPolicyLen {
			return fmt.Errorf("%w: a policy longer than %d bytes", ErrInvalidArgument, MaxPolicyLen)
		}
	case ConfigACL:
		if !cannedACLs[cfg.ACL] {
			return fmt.Errorf("%w: canned ACL %q", ErrInvalidArgument, cfg.ACL)
		}
	case ConfigCORS:
		if len(cfg.CORS) > MaxCORSRules {
			return fmt.Errorf("%w: more than %d CORS rules", ErrInvalidArgument, MaxCORSRules)
		}
	}
	return nil
}

// setAccessConfig copies part of in into cfg.
func setAccessConfig(part BucketConfigPart, cfg, in *BucketConfig) {
	switch part {
	case ConfigPolicy:
		cfg.Policy = in.Policy
	case ConfigACL:
		cfg.ACL = in.ACL
		if cfg.ACL == "private" {
			cfg.ACL = ""
		}
	case ConfigCORS:
		cfg.CORS = in.CORS
	}
}
