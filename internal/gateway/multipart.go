package gateway

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"

	"cairn/internal/meta"
	"cairn/s3gw"
)

// MinPartSize is the smallest a part other than the last may be (S3's rule).
const MinPartSize = 5 << 20

// CreateMultipartUpload implements s3gw.Backend.
func (g *Gateway) CreateMultipartUpload(ctx context.Context, bucket, key string, opts s3gw.PutOptions) (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("upload id: %w", err)
	}
	u := &meta.Upload{
		V:           meta.FormatVersion,
		ID:          hex.EncodeToString(b[:]),
		Bucket:      bucket,
		Key:         key,
		Initiated:   g.cfg.Now().UTC(),
		ContentType: opts.ContentType,
		Headers:     opts.Headers,
		UserMeta:    opts.UserMeta,
		Tags:        opts.Tags,
		SSE:         metaSSE(opts.SSE),
		LockMode:    opts.LockMode,
		RetainUntil: opts.RetainUntil,
		LegalHold:   opts.LegalHold,
	}
	if err := g.cfg.Meta.CreateUpload(ctx, u); err != nil {
		return "", s3err(err)
	}
	return u.ID, nil
}

// UploadPart implements s3gw.Backend.
func (g *Gateway) UploadPart(ctx context.Context, bucket, key, uploadID string, part int, r io.Reader, size int64, opts s3gw.PutOptions) (s3gw.PartInfo, error) {
	u, err := g.cfg.Meta.GetUpload(ctx, bucket, key, uploadID)
	if err != nil {
		return s3gw.PartInfo{}, s3err(err)
	}
	fence := u.ReadIndex // as PutObject's
	// Every part is sealed as the upload asked, the customer's key
	// (which each part carries) checked against the upload's.
	if err := checkCustomerKey(keyCheck(u.SSE), opts.SSE.CustomerKey); err != nil {
		return s3gw.PartInfo{}, err
	}
	sl, err := g.sealingFor(s3gw.Encryption{S3: u.SSE != nil && u.SSE.S3, CustomerKey: opts.SSE.CustomerKey})
	if err != nil {
		return s3gw.PartInfo{}, err
	}
	w, err := g.writeChunks(ctx, r, size, sl)
	if err != nil {
		return s3gw.PartInfo{}, err
	}
	if opts.ContentMD5 != nil && !bytes.Equal(opts.ContentMD5, w.md5) {
		return s3gw.PartInfo{}, s3gw.ErrBadDigest
	}
	p := &meta.Part{
		V:        meta.FormatVersion,
		Number:   part,
		ETag:     etag(w.md5, opts.SSE),
		Size:     w.size,
		Modified: g.cfg.Now().UTC(),
		Chunks:   w.chunks,
		Fence:    fence,
	}
	if err := g.idempotent(ctx, func() error { return g.cfg.Meta.PutPart(ctx, bucket, key, uploadID, p) }); err != nil {
		return s3gw.PartInfo{}, s3err(err)
	}
	info := partInfo(p)
	info.SSES3 = u.SSE != nil && u.SSE.S3
	return info, nil
}

// allParts reads every part of an upload, ascending.
func (g *Gateway) allParts(ctx context.Context, bucket, key, uploadID string) ([]*meta.Part, error) {
	var all []*meta.Part
	marker := 0
	for {
		ps, more, err := g.cfg.Meta.ListParts(ctx, bucket, key, uploadID, marker, 1000)
		if err != nil {
			return nil, s3err(err)
		}
		all = append(all, ps...)
		if !more || len(ps) == 0 {
			return all, nil
		}
		marker = ps[len(ps)-1].Number
	}
}

// CompleteMultipartUpload implements s3gw.Backend. The object is the listed
// parts' chunks in order; its ETag is the MD5 of the parts' binary MD5s
// followed by "-N", as S3 computes it.
func (g *Gateway) completeMultipart(ctx context.Context, bucket, key, uploadID string, parts []s3gw.CompletePart, cond *meta.WriteCond) (s3gw.ObjectInfo, error) {
	u, err := g.cfg.Meta.GetUpload(ctx, bucket, key, uploadID)
	if err != nil {
		return s3gw.ObjectInfo{}, s3err(err)
	}
	if len(parts) == 0 {
		return s3gw.ObjectInfo{}, fmt.Errorf("%w: no parts listed", s3gw.ErrInvalidPart)
	}
	for i := 1; i < len(parts); i++ {
		if parts[i].Number <= parts[i-1].Number {
			return s3gw.ObjectInfo{}, s3gw.ErrInvalidPartOrder
		}
	}
	stored, err := g.allParts(ctx, bucket, key, uploadID)
	if err != nil {
		return s3gw.ObjectInfo{}, err
	}
	byNum := make(map[int]*meta.Part, len(stored))
	for _, p := range stored {
		byNum[p.Number] = p
	}
	obj := &meta.Object{
		V:           meta.FormatVersion,
		Bucket:      bucket,
		Key:         key,
		Modified:    g.cfg.Now().UTC(),
		ContentType: u.ContentType,
		Headers:     u.Headers,
		UserMeta:    u.UserMeta,
		Tags:        u.Tags,
		SSE:         u.SSE,
		LockMode:    u.LockMode,
		RetainUntil: u.RetainUntil,
		LegalHold:   u.LegalHold,
		Cond:        cond,
	}
	// Every listed part must exist with its ETag before sizes are judged:
	// a missing part is InvalidPart even when an earlier one is small.
	for _, cp := range parts {
		if p, ok := byNum[cp.Number]; !ok || p.ETag != cp.ETag {
			return s3gw.ObjectInfo{}, fmt.Errorf("%w: part %d", s3gw.ErrInvalidPart, cp.Number)
		}
	}
	h := md5.New()
	refs := make([]meta.PartRef, len(parts))
	for i, cp := range parts {
		p := byNum[cp.Number]
		if p.Size < MinPartSize && i < len(parts)-1 {
			return s3gw.ObjectInfo{}, fmt.Errorf("%w: part %d is %d bytes", s3gw.ErrEntityTooSmall, p.Number, p.Size)
		}
		sum, err := hex.DecodeString(p.ETag)
		if err != nil {
			return s3gw.ObjectInfo{}, fmt.Errorf("part %d etag: %w", p.Number, err)
		}
		h.Write(sum)
		refs[i] = meta.PartRef{Number: p.Number, ETag: p.ETag}
		obj.Size += p.Size
		obj.PartSizes = append(obj.PartSizes, p.Size)
		obj.Chunks = append(obj.Chunks, p.Chunks...)
	}
	obj.ETag = fmt.Sprintf("%x-%d", h.Sum(nil), len(parts))
	if keyCheck(u.SSE) == nil { // see objectCID
		if obj.CID, err = rootCID(obj.Chunks); err != nil {
			return s3gw.ObjectInfo{}, err
		}
	}
	if err := g.cfg.Meta.CompleteUpload(ctx, uploadID, refs, obj); err != nil {
		return s3gw.ObjectInfo{}, versionErr(err)
	}
	return objectInfo(obj), nil
}

// AbortMultipartUpload implements s3gw.Backend.
func (g *Gateway) AbortMultipartUpload(ctx context.Context, bucket, key, uploadID string) error {
	return s3err(g.cfg.Meta.AbortUpload(ctx, bucket, key, uploadID))
}

// ListParts implements s3gw.Backend.
func (g *Gateway) ListParts(ctx context.Context, bucket, key, uploadID string, partMarker, maxParts int) (s3gw.ListPartsResult, error) {
	u, err := g.cfg.Meta.GetUpload(ctx, bucket, key, uploadID)
	if err != nil {
		return s3gw.ListPartsResult{}, s3err(err)
	}
	ps, more, err := g.cfg.Meta.ListParts(ctx, bucket, key, uploadID, partMarker, maxParts)
	if err != nil {
		return s3gw.ListPartsResult{}, s3err(err)
	}
	out := s3gw.ListPartsResult{IsTruncated: more, Initiated: u.Initiated}
	for _, p := range ps {
		out.Parts = append(out.Parts, partInfo(p))
	}
	if more && len(ps) > 0 {
		out.NextPartNumberMarker = ps[len(ps)-1].Number
	}
	return out, nil
}

// ListMultipartUploads implements s3gw.Backend.
func (g *Gateway) ListMultipartUploads(ctx context.Context, bucket string, q s3gw.UploadQuery) (s3gw.ListUploadsResult, error) {
	l, err := g.cfg.Meta.ListUploads(ctx, bucket, meta.UploadQuery{
		Prefix: q.Prefix, Delimiter: q.Delimiter, KeyMarker: q.KeyMarker,
		UploadIDMarker: q.UploadIDMarker, Max: q.MaxUploads,
	})
	if err != nil {
		return s3gw.ListUploadsResult{}, s3err(err)
	}
	out := s3gw.ListUploadsResult{
		CommonPrefixes:     l.CommonPrefixes,
		IsTruncated:        l.Truncated,
		NextKeyMarker:      l.NextKeyMarker,
		NextUploadIDMarker: l.NextUploadIDMarker,
	}
	for _, u := range l.Uploads {
		out.Uploads = append(out.Uploads, s3gw.UploadInfo{Key: u.Key, UploadID: u.ID, Initiated: u.Initiated})
	}
	return out, nil
}

func partInfo(p *meta.Part) s3gw.PartInfo {
	return s3gw.PartInfo{Number: p.Number, ETag: p.ETag, Size: p.Size, LastModified: p.Modified}
}
