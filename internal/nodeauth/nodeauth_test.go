package nodeauth

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

var secret = []byte("a cluster secret of enough bytes")

func TestSignVerify(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	s, err := NewSigner(secret, clock)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewSigner([]byte("another secret, same length ....."), clock)
	body := []byte(`{"bucket":"b"}`)

	sign := func(mutate func(r *http.Request)) *http.Request {
		r := httptest.NewRequest("POST", "http://node/v1/meta/put?x=1&y=2", nil)
		s.Sign(r, BodyHash(body))
		if mutate != nil {
			mutate(r)
		}
		return r
	}
	if h, err := s.Verify(sign(nil)); err != nil || h != BodyHash(body) {
		t.Fatalf("good request: %q, %v", h, err)
	}
	for name, c := range map[string]struct {
		r *http.Request
		v *Signer
	}{
		"other secret":  {sign(nil), other},
		"method":        {sign(func(r *http.Request) { r.Method = "DELETE" }), s},
		"path":          {sign(func(r *http.Request) { r.URL.Path = "/v1/meta/delete" }), s},
		"query":         {sign(func(r *http.Request) { r.URL.RawQuery = "x=1&y=3" }), s},
		"body hash":     {sign(func(r *http.Request) { r.Header.Set(HeaderBodyHash, BodyHash([]byte("x"))) }), s},
		"no auth":       {sign(func(r *http.Request) { r.Header.Del("Authorization") }), s},
		"bad hex":       {sign(func(r *http.Request) { r.Header.Set("Authorization", scheme+" zz") }), s},
		"stale":         {sign(func(r *http.Request) { r.Header.Set(HeaderDate, now.Add(-6*time.Minute).Format(dateFormat)) }), s},
		"future":        {sign(func(r *http.Request) { r.Header.Set(HeaderDate, now.Add(6*time.Minute).Format(dateFormat)) }), s},
		"no body hash":  {sign(func(r *http.Request) { r.Header.Del(HeaderBodyHash) }), s},
		"date mismatch": {sign(func(r *http.Request) { r.Header.Set(HeaderDate, now.Add(time.Second).Format(dateFormat)) }), s},
	} {
		if _, err := c.v.Verify(c.r); !errors.Is(err, ErrUnauthorized) {
			t.Errorf("%s: %v, want ErrUnauthorized", name, err)
		}
	}
	if _, err := NewSigner([]byte("short"), nil); err == nil {
		t.Error("a 5-byte secret was accepted")
	}
	k1, _ := DeriveKey(secret, "node-api")
	k2, _ := DeriveKey(secret, "gossip")
	if string(k1) == string(k2) || len(k1) != 32 {
		t.Error("purposes share a key")
	}
}

// TestBodyMatches: both forms of body hash match their body and no other,
// and UnsignedPayload matches nothing.
func TestBodyMatches(t *testing.T) {
	body, other := []byte("shard bytes"), []byte("shard bytez")
	for name, hash := range map[string]func([]byte) string{"sha256": BodyHash, "blake3": BodyHashBLAKE3} {
		if !BodyMatches(body, hash(body)) {
			t.Errorf("%s: a body does not match its own hash", name)
		}
		if BodyMatches(other, hash(body)) {
			t.Errorf("%s: another body matches", name)
		}
	}
	if BodyHash(body) == BodyHashBLAKE3(body) || BodyMatches(body, UnsignedPayload) || BodyMatches(nil, "blake3=") {
		t.Error("the forms are confused, or an empty hash matches")
	}
}
