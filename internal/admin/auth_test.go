package admin_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"cairn/internal/admin"
	"cairn/internal/admin/adminapi"
	"cairn/internal/admin/admintest"
)

func TestToken(t *testing.T) {
	a, err := admin.Token(admintest.Secret)
	must(t, err)
	b, err := admin.Token(admintest.Secret)
	must(t, err)
	if a != b {
		t.Fatalf("Token is not a function of the secret: %q, %q", a, b)
	}
	if !regexp.MustCompile(`^cairn-[0-9a-f]{48}$`).MatchString(a) {
		t.Fatalf("token %q: want cairn- and 48 hex digits", a)
	}
	other, err := admin.Token([]byte("another cluster secret, 32 bytes"))
	must(t, err)
	if other == a {
		t.Fatal("two secrets give the same token")
	}
	if _, err := admin.Token([]byte("short")); err == nil {
		t.Fatal("a secret under 16 bytes gives a token")
	}
}

func TestAuthorization(t *testing.T) {
	c := admintest.Start(t, admintest.Options{})
	for _, tc := range []struct {
		name, path, auth string
		status           int
	}{
		{"no header", "/v1/admin/status", "", 401},
		{"wrong token", "/v1/admin/status", "Bearer cairn-0000", 401},
		{"token of another cluster", "/v1/admin/status", "Bearer " + otherToken(t), 401},
		{"token as a prefix", "/v1/admin/status", "Bearer " + c.Token + "x", 401},
		{"other scheme", "/v1/admin/status", "Basic " + c.Token, 401},
		{"bare token", "/v1/admin/status", c.Token, 401},
		{"unknown route, no token", "/v1/admin/nothing", "", 401},
		{"right token", "/v1/admin/status", "Bearer " + c.Token, 200},
		{"scheme in lower case", "/v1/admin/buckets", "bearer " + c.Token, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, h, body := rawCall(t, c, http.MethodGet, tc.path, tc.auth, nil)
			if status != tc.status {
				t.Fatalf("status %d (%s), want %d", status, body, tc.status)
			}
			if status == 401 {
				if code := errorCode(t, body); code != adminapi.CodeUnauthorized {
					t.Fatalf("code %s, want Unauthorized", code)
				}
				if !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
					t.Fatalf("no WWW-Authenticate: Bearer in %v", h)
				}
				if strings.Contains(string(body), c.Token) {
					t.Fatal("the 401 body shows the token")
				}
			}
		})
	}
	// The client's errors say the same.
	cl, err := adminapi.NewClient(c.HTTP.URL, "cairn-wrong", nil)
	must(t, err)
	_, err = cl.Buckets(bg)
	wantCode(t, err, 401, adminapi.CodeUnauthorized)
}

func otherToken(t *testing.T) string {
	tok, err := admin.Token([]byte("another cluster secret, 32 bytes"))
	must(t, err)
	return tok
}

func TestRoutes(t *testing.T) {
	c := admintest.Start(t, admintest.Options{})
	auth := "Bearer " + c.Token
	for _, tc := range []struct {
		method, path string
		status       int
		code, allow  string
	}{
		{"GET", "/v1/admin/", 404, adminapi.CodeNoSuchRoute, ""},
		{"GET", "/v1/admin/nothing", 404, adminapi.CodeNoSuchRoute, ""},
		{"GET", "/v1/admin/status/x", 404, adminapi.CodeNoSuchRoute, ""},
		{"GET", "/v1/admin/nodes/n1/frobnicate", 404, adminapi.CodeNoSuchRoute, ""},
		{"POST", "/v1/admin/status", 405, adminapi.CodeMethodNotAllowed, "GET"},
		{"GET", "/v1/admin/nodes/n1/approve", 405, adminapi.CodeMethodNotAllowed, "POST"},
		{"POST", "/v1/admin/buckets/photos", 405, adminapi.CodeMethodNotAllowed, "PUT, DELETE"},
		{"PUT", "/v1/admin/keys", 405, adminapi.CodeMethodNotAllowed, "GET, POST"},
		{"GET", "/v1/admin/keys/K1", 405, adminapi.CodeMethodNotAllowed, "DELETE"},
		{"GET", "/v1/admin/objects/photos", 400, adminapi.CodeBadRequest, ""},
		{"GET", "/v1/admin/objects/photos/", 400, adminapi.CodeBadRequest, ""},
		{"PUT", "/v1/admin/buckets/a%2Fb", 400, adminapi.CodeInvalidBucketName, ""},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			status, h, body := rawCall(t, c, tc.method, tc.path, auth, nil)
			if status != tc.status {
				t.Fatalf("status %d (%s), want %d", status, body, tc.status)
			}
			if code := errorCode(t, body); code != tc.code {
				t.Fatalf("code %s, want %s", code, tc.code)
			}
			if got := h.Get("Allow"); got != tc.allow {
				t.Fatalf("Allow %q, want %q", got, tc.allow)
			}
		})
	}
	t.Run("body too large", func(t *testing.T) {
		status, _, body := rawCall(t, c, "POST", "/v1/admin/keys", auth, strings.NewReader(strings.Repeat("x", admin.MaxBody+1)))
		if status != 413 || errorCode(t, body) != adminapi.CodeRequestTooLarge {
			t.Fatalf("status %d %s, want 413 RequestTooLarge", status, body)
		}
	})
}
