package console

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"cairn/internal/admin/adminapi"
)

// The cluster view, shard maps and access keys are the admin API's
// answers, asked in-process with the admin token and passed on as they
// are (adminapi documents them).

// adminRequest returns a request to the admin API for path (below
// adminapi.PathPrefix, escaped).
func (s *Server) adminRequest(ctx context.Context, method, path string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, "http://console.invalid"+adminapi.PathPrefix+path, nil)
	if err != nil {
		return nil, fmt.Errorf("admin request %s: %w", path, err)
	}
	req.Header.Set("Authorization", "Bearer "+s.cfg.AdminToken)
	return req, nil
}

// proxyAdmin serves the admin API's answer to method path as this
// request's.
func (s *Server) proxyAdmin(w http.ResponseWriter, r *http.Request, method, path string) error {
	req, err := s.adminRequest(r.Context(), method, path)
	if err != nil {
		return err
	}
	req.RemoteAddr = r.RemoteAddr
	s.cfg.Admin.ServeHTTP(w, req)
	return nil
}

// maxAdminAnswer bounds an admin answer the console reads itself.
const maxAdminAnswer = 16 << 20

// capture is a ResponseWriter that keeps an answer, up to maxAdminAnswer.
type capture struct {
	header http.Header
	status int
	body   bytes.Buffer
	over   bool
}

func (c *capture) Header() http.Header { return c.header }
func (c *capture) WriteHeader(status int) {
	if c.status == 0 {
		c.status = status
	}
}

func (c *capture) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	if c.body.Len()+len(b) > maxAdminAnswer {
		c.over = true
		return 0, fmt.Errorf("admin answer over %d bytes", maxAdminAnswer)
	}
	return c.body.Write(b)
}

// adminJSON calls the admin API in-process and decodes its answer into
// out.
func (s *Server) adminJSON(ctx context.Context, method, path string, out any) error {
	req, err := s.adminRequest(ctx, method, path)
	if err != nil {
		return err
	}
	c := &capture{header: http.Header{}}
	s.cfg.Admin.ServeHTTP(c, req)
	if c.over {
		return fmt.Errorf("admin %s: answer over %d bytes", path, maxAdminAnswer)
	}
	if c.status != http.StatusOK {
		var e adminapi.ErrorBody
		_ = json.Unmarshal(c.body.Bytes(), &e)
		return fmt.Errorf("admin %s: %d %s: %s", path, c.status, e.Code, e.Message)
	}
	if err := json.Unmarshal(c.body.Bytes(), out); err != nil {
		return fmt.Errorf("admin %s: %w", path, err)
	}
	return nil
}

// cluster answers the admin API's status: nodes, zones, totals, the
// leader, healing.
func (s *Server) cluster(w http.ResponseWriter, r *http.Request, _ *session) error {
	return s.proxyAdmin(w, r, http.MethodGet, "status")
}

func (s *Server) keys(w http.ResponseWriter, r *http.Request, _ *session) error {
	return s.proxyAdmin(w, r, http.MethodGet, "keys")
}

func (s *Server) createKey(w http.ResponseWriter, r *http.Request, _ *session) error {
	return s.proxyAdmin(w, r, http.MethodPost, "keys")
}

func (s *Server) deleteKey(w http.ResponseWriter, r *http.Request, _ *session) error {
	return s.proxyAdmin(w, r, http.MethodDelete, "keys/"+escape(r.PathValue("id")))
}

// shards answers an object's manifest and shard map (GET
// /api/object/shards?bucket=B&key=K).
func (s *Server) shards(w http.ResponseWriter, r *http.Request, sess *session) error {
	bucket, key, err := objectParams(r)
	if err != nil {
		return err
	}
	if err := s.permit(r, sess, false, bucket, key); err != nil {
		return err
	}
	return s.proxyAdmin(w, r, http.MethodGet, "objects/"+escape(bucket)+"/"+escape(key))
}

// escape escapes one path segment for the admin API, dots too, so that
// "." and ".." stay names.
func escape(s string) string {
	return strings.ReplaceAll(url.PathEscape(s), ".", "%2E")
}
