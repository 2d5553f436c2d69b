package console

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"path"
	"strconv"
	"time"
	"unicode/utf8"

	"cairn/s3gw"
)

// Buckets and objects go through the gateway's s3gw.Backend, as S3
// requests do. Names travel in the query string (bucket=, key=), so that
// any S3 key, "a//b" or "dir/" included, reaches the store as it is.

// errPolicy refuses what a key session's own policy (storectl key create
// --policy) does not allow, as S3 would with AccessDenied.
var errPolicy = newError(http.StatusForbidden, "AccessDenied", "the access key's policy does not allow this")

// permit checks a request of a key session against the key's policy: an
// admin session may do everything; a key session what its key may do
// through S3 (s3gw.KeyPolicy.Permits). Bucket policies are S3's: the
// console does not evaluate them.
func (s *Server) permit(r *http.Request, sess *session, write bool, bucket, key string) error {
	if sess == nil || sess.role != RoleKey {
		return nil
	}
	gw, err := s.gateway()
	if err != nil {
		return err
	}
	pc, ok := gw.(s3gw.PolicyCredentials)
	if !ok {
		return nil // a store without key policies: every key may do everything
	}
	_, p, err := pc.KeyPolicy(r.Context(), sess.accessKey)
	if err != nil {
		return err
	}
	if !p.Permits(write, bucket, key) {
		return errPolicy
	}
	return nil
}

// maxListKeys is the page size of a listing.
const maxListKeys = 1000

func (s *Server) gateway() (Gateway, error) {
	gw := s.cfg.Gateway()
	if gw == nil {
		return nil, errNoGateway
	}
	return gw, nil
}

// bucketParam returns the bucket= parameter, checked against S3's rules.
func bucketParam(r *http.Request) (string, error) {
	b := r.URL.Query().Get("bucket")
	if !s3gw.ValidBucketName(b) {
		return "", newError(http.StatusBadRequest, "InvalidBucketName", "%q is not a valid bucket name: 3 to 63 of a-z 0-9 . -", b)
	}
	return b, nil
}

// objectParams returns the bucket= and key= parameters.
func objectParams(r *http.Request) (bucket, key string, err error) {
	if bucket, err = bucketParam(r); err != nil {
		return "", "", err
	}
	key = r.URL.Query().Get("key")
	if key == "" || len(key) > 1024 || !utf8.ValidString(key) {
		return "", "", newError(http.StatusBadRequest, "InvalidKey", "an object key is 1 to 1024 bytes of UTF-8")
	}
	return bucket, key, nil
}

type bucketJSON struct {
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
}

func (s *Server) buckets(w http.ResponseWriter, r *http.Request, sess *session) error {
	if err := s.permit(r, sess, false, "", ""); err != nil {
		return err
	}
	gw, err := s.gateway()
	if err != nil {
		return err
	}
	bs, err := gw.ListBuckets(r.Context())
	if err != nil {
		return err
	}
	out := make([]bucketJSON, len(bs))
	for i, b := range bs {
		out[i] = bucketJSON{Name: b.Name, Created: b.Created}
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) createBucket(w http.ResponseWriter, r *http.Request, sess *session) error {
	bucket, err := bucketParam(r)
	if err != nil {
		return err
	}
	if err := s.permit(r, sess, true, bucket, ""); err != nil {
		return err
	}
	gw, err := s.gateway()
	if err != nil {
		return err
	}
	if err := gw.CreateBucket(r.Context(), bucket); err != nil {
		return err
	}
	w.WriteHeader(http.StatusCreated)
	return nil
}

func (s *Server) deleteBucket(w http.ResponseWriter, r *http.Request, sess *session) error {
	bucket, err := bucketParam(r)
	if err != nil {
		return err
	}
	if err := s.permit(r, sess, true, bucket, ""); err != nil {
		return err
	}
	gw, err := s.gateway()
	if err != nil {
		return err
	}
	if err := gw.DeleteBucket(r.Context(), bucket); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type objectJSON struct {
	Key      string    `json:"key"`
	Size     int64     `json:"size"`
	ETag     string    `json:"etag"`
	CID      string    `json:"cid"`
	Modified time.Time `json:"modified"`
}

// listing is one page of a bucket's objects under a prefix, with the
// "folders" (common prefixes at the next /).
type listing struct {
	Bucket     string       `json:"bucket"`
	Prefix     string       `json:"prefix"`
	Prefixes   []string     `json:"prefixes"`
	Objects    []objectJSON `json:"objects"`
	Truncated  bool         `json:"truncated"`
	NextMarker string       `json:"next_marker,omitempty"`
}

// list answers GET /api/objects?bucket=B&prefix=P&marker=M.
func (s *Server) list(w http.ResponseWriter, r *http.Request, sess *session) error {
	bucket, err := bucketParam(r)
	if err != nil {
		return err
	}
	if err := s.permit(r, sess, false, bucket, r.URL.Query().Get("prefix")); err != nil {
		return err
	}
	gw, err := s.gateway()
	if err != nil {
		return err
	}
	q := r.URL.Query()
	res, err := gw.ListObjects(r.Context(), bucket, s3gw.ListQuery{
		Prefix: q.Get("prefix"), Delimiter: "/", Marker: q.Get("marker"), MaxKeys: maxListKeys,
	})
	if err != nil {
		return err
	}
	out := listing{Bucket: bucket, Prefix: q.Get("prefix"), Prefixes: res.CommonPrefixes, Objects: make([]objectJSON, len(res.Objects)),
		Truncated: res.IsTruncated, NextMarker: res.NextMarker}
	if out.Prefixes == nil {
		out.Prefixes = []string{}
	}
	for i, o := range res.Objects {
		out.Objects[i] = objectJSON{Key: o.Key, Size: o.Size, ETag: o.ETag, CID: o.CID, Modified: o.LastModified}
	}
	return writeJSON(w, http.StatusOK, out)
}

// upload answers PUT /api/object?bucket=B&key=K: the body, streamed into
// the store, becomes the object. It answers the object's ETag and CID.
func (s *Server) upload(w http.ResponseWriter, r *http.Request, sess *session) error {
	bucket, key, err := objectParams(r)
	if err != nil {
		return err
	}
	if err := s.permit(r, sess, true, bucket, key); err != nil {
		return err
	}
	gw, err := s.gateway()
	if err != nil {
		return err
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		ct = "application/octet-stream"
	}
	info, err := gw.PutObject(r.Context(), bucket, key, r.Body, r.ContentLength, s3gw.PutOptions{ContentType: ct})
	if err != nil {
		return err
	}
	s.log.Info("console upload", "bucket", bucket, "key", key, "size", info.Size)
	return writeJSON(w, http.StatusOK, objectJSON{Key: key, Size: info.Size, ETag: info.ETag, CID: info.CID, Modified: info.LastModified})
}

// download answers GET /api/object?bucket=B&key=K with the object's
// bytes, as an attachment.
func (s *Server) download(w http.ResponseWriter, r *http.Request, sess *session) error {
	bucket, key, err := objectParams(r)
	if err != nil {
		return err
	}
	if err := s.permit(r, sess, false, bucket, key); err != nil {
		return err
	}
	gw, err := s.gateway()
	if err != nil {
		return err
	}
	obj, err := gw.GetObject(r.Context(), bucket, key)
	if err != nil {
		return err
	}
	info := obj.Info()
	rd, err := obj.Open(r.Context(), 0, info.Size)
	if err != nil {
		return err
	}
	defer rd.Close()
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Length", strconv.FormatInt(info.Size, 10))
	h.Set("ETag", `"`+info.ETag+`"`)
	cd := mime.FormatMediaType("attachment", map[string]string{"filename": path.Base(key)})
	if cd == "" { // a name mime cannot encode: the browser names the file
		cd = "attachment"
	}
	h.Set("Content-Disposition", cd)
	w.WriteHeader(http.StatusOK)
	if n, err := io.Copy(w, rd); err != nil {
		// The status is sent: all that is left is to cut the answer short,
		// which the client sees as a truncated body.
		s.log.Warn("console download cut short", "bucket", bucket, "key", key, "sent", n, "size", info.Size, "err", err)
		panic(http.ErrAbortHandler)
	}
	return nil
}

// deleteObject answers DELETE /api/objects?bucket=B with a JSON list of
// keys; it answers the keys it could not delete, with why.
func (s *Server) deleteObject(w http.ResponseWriter, r *http.Request, sess *session) error {
	bucket, err := bucketParam(r)
	if err != nil {
		return err
	}
	var keys []string
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&keys); err != nil || len(keys) == 0 || len(keys) > maxListKeys {
		return newError(http.StatusBadRequest, "BadRequest", "want a JSON list of 1 to %d keys", maxListKeys)
	}
	for _, k := range keys {
		if err := s.permit(r, sess, true, bucket, k); err != nil {
			return err
		}
	}
	gw, err := s.gateway()
	if err != nil {
		return err
	}
	errs, err := gw.DeleteObjects(r.Context(), bucket, keys)
	if err != nil {
		return err
	}
	failed := map[string]string{}
	for i, e := range errs {
		if e != nil {
			failed[keys[i]] = backendError(e).msg
			s.log.Warn("console delete", "bucket", bucket, "key", keys[i], "err", e)
		}
	}
	s.log.Info("console delete", "bucket", bucket, "keys", len(keys), "failed", len(failed))
	return writeJSON(w, http.StatusOK, map[string]any{"deleted": len(keys) - len(failed), "failed": failed})
}
