package meta

import (
	"reflect"
	"testing"
	"time"
)

// TestBucketAccessParts sets each access part on its own: the others, and
// versioning's, stay as they were; out-of-bounds values are refused.
func TestBucketAccessParts(t *testing.T) {
	s := newDev(t, nil).s
	must(t, s.CreateBucket(bg, "b", time.Now()))
	must(t, s.SetBucketConfig(bg, "b", ConfigVersioning, &BucketConfig{Versioning: VersioningEnabled}))
	doc := `{"Statement":[]}`
	must(t, s.SetBucketConfig(bg, "b", ConfigPolicy, &BucketConfig{Policy: doc, ACL: "ignored"}))
	must(t, s.SetBucketConfig(bg, "b", ConfigACL, &BucketConfig{ACL: "public-read"}))
	rules := []CORSRule{{ID: "r", AllowedOrigins: []string{"https://*.example"}, AllowedMethods: []string{"GET"}, MaxAgeSeconds: 60}}
	must(t, s.SetBucketConfig(bg, "b", ConfigCORS, &BucketConfig{CORS: rules}))
	cfg, err := s.GetBucketConfig(bg, "b")
	must(t, err)
	if cfg.Versioning != VersioningEnabled || cfg.Policy != doc || cfg.ACL != "public-read" || !reflect.DeepEqual(cfg.CORS, rules) {
		t.Fatalf("config %+v", cfg)
	}
	must(t, s.SetBucketConfig(bg, "b", ConfigACL, &BucketConfig{ACL: "private"}))
	must(t, s.SetBucketConfig(bg, "b", ConfigPolicy, &BucketConfig{}))
	cfg, err = s.GetBucketConfig(bg, "b")
	must(t, err)
	if cfg.ACL != "" || cfg.Policy != "" || len(cfg.CORS) != 1 {
		t.Fatalf("config after removals %+v", cfg)
	}
	wantErr(t, s.SetBucketConfig(bg, "b", ConfigACL, &BucketConfig{ACL: "world-writable"}), ErrInvalidArgument)
	wantErr(t, s.SetBucketConfig(bg, "b", ConfigCORS, &BucketConfig{CORS: make([]CORSRule, MaxCORSRules+1)}), ErrInvalidArgument)
	wantErr(t, s.SetBucketConfig(bg, "nope", ConfigPolicy, &BucketConfig{Policy: doc}), ErrNoSuchBucket)
}
