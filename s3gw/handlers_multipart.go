package s3gw

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// partParams reads uploadId and partNumber of UploadPart(Copy).
func partParams(o *op) (int, string, error) {
	id := o.query.Get("uploadId")
	if id == "" {
		return 0, "", errInvalidArgument.withMessage("This operation needs an uploadId.")
	}
	n, err := strconv.Atoi(o.query.Get("partNumber"))
	if err != nil || n < 1 || n > maxObjectParts {
		return 0, "", errInvalidArgument.withMessage("Part number must be an integer between 1 and 10000, inclusive")
	}
	return n, id, nil
}

func (s *Server) createMultipartUpload(w http.ResponseWriter, r *http.Request, o *op) error {
	opts, err := putOptions(r.Header)
	if err != nil {
		return err
	}
	opts.ContentMD5 = nil
	sse, ck, err := s.writeSSE(r)
	if err != nil {
		return err
	}
	opts.SSE = sse
	if err := s.writeOptions(r, &opts, false); err != nil {
		return err
	}
	id, err := s.backend.CreateMultipartUpload(r.Context(), o.bucket, o.key, opts)
	if err != nil {
		return err
	}
	setSSEHeaders(w, sse, ck)
	if a := r.Header.Get("X-Amz-Checksum-Algorithm"); a != "" {
		w.Header()["x-amz-checksum-algorithm"] = []string{strings.ToUpper(a)}
	}
	return writeXML(w, http.StatusOK, initiateMultipartUploadResult{Bucket: o.bucket, Key: o.key, UploadID: id})
}

func (s *Server) uploadPart(w http.ResponseWriter, r *http.Request, o *op) error {
	part, id, err := partParams(o)
	if err != nil {
		return err
	}
	var opts PutOptions
	if opts.ContentMD5, err = contentMD5(r.Header); err != nil {
		return err
	}
	ck, err := s.partKey(r)
	if err != nil {
		return err
	}
	if ck != nil {
		opts.SSE.CustomerKey = ck.key
	}
	p, err := openPayload(r, o.auth, true)
	if err != nil {
		return err
	}
	if p.size > maxSinglePut {
		return errEntityTooLarge
	}
	info, err := s.backend.UploadPart(r.Context(), o.bucket, o.key, id, part, p, p.size, opts)
	if err != nil {
		return p.cause(err)
	}
	w.Header().Set("ETag", quoteETag(info.ETag))
	setSSEHeaders(w, Encryption{S3: info.SSES3}, ck)
	p.echoChecksum(w)
	w.WriteHeader(http.StatusOK)
	return nil
}

// partKey reads the customer key of UploadPart(Copy): the upload's, which
// the Backend checks. A part takes no other encryption header.
func (s *Server) partKey(r *http.Request) (*customerKey, error) {
	if r.Header.Get("X-Amz-Server-Side-Encryption") != "" {
		return nil, errSSENotOnRead
	}
	return s.parseCustomerKey(r, ssecPrefix)
}

// uploadPartCopy streams a range of the source object straight from the
// source's reader into Backend.UploadPart: no copy of it is held here.
func (s *Server) uploadPartCopy(w http.ResponseWriter, r *http.Request, o *op) error {
	part, id, err := partParams(o)
	if err != nil {
		return err
	}
	src, _, _, err := s.copySource(r)
	if err != nil {
		return err
	}
	srcCtx, _, err := s.readKey(r.Context(), r, ssecCopyPrefix, src.Info())
	if err != nil {
		return err
	}
	ck, err := s.partKey(r)
	if err != nil {
		return err
	}
	var opts PutOptions
	if ck != nil {
		opts.SSE.CustomerKey = ck.key
	}
	size := src.Info().Size
	rng := byteRange{0, size}
	if h := r.Header.Get("X-Amz-Copy-Source-Range"); h != "" {
		if rng, err = parseCopySourceRange(h, size); err != nil {
			return err
		}
	}
	if rng.length > maxSinglePut {
		return errEntityTooLarge
	}
	var rc io.ReadCloser = http.NoBody
	if rng.length > 0 {
		if rc, err = src.Open(srcCtx, rng.start, rng.length); err != nil {
			return err
		}
	}
	defer rc.Close()
	info, err := s.backend.UploadPart(r.Context(), o.bucket, o.key, id, part, rc, rng.length, opts)
	if err != nil {
		return err
	}
	setSSEHeaders(w, Encryption{S3: info.SSES3}, ck)
	return writeXML(w, http.StatusOK, copyPartResult{
		LastModified: isoTime(info.LastModified),
		ETag:         quoteETag(info.ETag),
	})
}

func (s *Server) completeMultipartUpload(w http.ResponseWriter, r *http.Request, o *op) error {
	var cond PutOptions
	if err := s.writeOptions(r, &cond, true); err != nil {
		return err
	}
	id := o.query.Get("uploadId")
	p, err := openPayload(r, o.auth, false)
	if err != nil {
		return err
	}
	var req completeMultipartUpload
	if _, err := readXML(p, &req, false); err != nil {
		return err
	}
	if len(req.Parts) == 0 || len(req.Parts) > maxObjectParts {
		return errMalformedXML.withMessage("The XML you provided was not well-formed or did not validate against our published schema: you must specify between 1 and 10000 parts.")
	}
	parts, err := completeParts(req)
	if err != nil {
		return err
	}
	info, err := s.completeUpload(r.Context(), o, id, parts, cond.Cond)
	if errors.Is(err, ErrNoSuchUpload) {
		info, err = s.completedAlready(r, o, parts, err)
	}
	if err != nil {
		return err
	}
	setCID(w, info.CID)
	setSSEHeaders(w, Encryption{S3: info.SSE.S3}, nil)
	setVersionHeaders(w, info)
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return writeXML(w, http.StatusOK, completeMultipartUploadResult{
		Location: scheme + "://" + r.Host + "/" + uriEncode(o.bucket, true) + "/" + uriEncode(o.key, false),
		Bucket:   o.bucket,
		Key:      o.key,
		ETag:     quoteETag(info.ETag),
	})
}

// completeParts checks the parts of a CompleteMultipartUpload: ascending
// part numbers (else InvalidPartOrder). A part listed twice in a row with
// the same ETag, as a client that retried its upload may list it, counts
// once; twice with different ETags, one of them cannot be the part's:
// InvalidPart.
func completeParts(req completeMultipartUpload) ([]CompletePart, error) {
	parts := make([]CompletePart, 0, len(req.Parts))
	for _, pt := range req.Parts {
		if pt.PartNumber < 1 || pt.PartNumber > maxObjectParts {
			return nil, errInvalidArgument.withMessage("Part number must be an integer between 1 and 10000, inclusive")
		}
		p := CompletePart{Number: pt.PartNumber, ETag: unquoteETag(pt.ETag)}
		if n := len(parts); n > 0 {
			switch prev := parts[n-1]; {
			case p.Number == prev.Number && p.ETag == prev.ETag:
				continue
			case p.Number == prev.Number:
				return nil, ErrInvalidPart
			case p.Number < prev.Number:
				return nil, ErrInvalidPartOrder
			}
		}
		parts = append(parts, p)
	}
	return parts, nil
}

// multipartETag is the ETag S3 gives the object these parts make: the MD5
// of the parts' binary MD5s, then "-" and the number of parts. ok is false
// when a part's ETag is not a hex MD5.
func multipartETag(parts []CompletePart) (string, bool) {
	h := md5.New()
	for _, p := range parts {
		sum, err := hex.DecodeString(p.ETag)
		if err != nil || len(sum) != md5.Size {
			return "", false
		}
		h.Write(sum)
	}
	return fmt.Sprintf("%x-%d", h.Sum(nil), len(parts)), true
}

// completedAlready answers a CompleteMultipartUpload whose upload is gone
// (notFound) as S3 answers a client that retries a Complete whose answer
// it lost: with the object, when the key holds the object these parts
// made (its ETag is theirs); otherwise with notFound.
func (s *Server) completedAlready(r *http.Request, o *op, parts []CompletePart, notFound error) (ObjectInfo, error) {
	want, ok := multipartETag(parts)
	if !ok {
		return ObjectInfo{}, notFound
	}
	obj, err := s.backend.GetObject(r.Context(), o.bucket, o.key)
	if err != nil || obj.Info().ETag != want {
		return ObjectInfo{}, notFound
	}
	return obj.Info(), nil
}

func (s *Server) abortMultipartUpload(w http.ResponseWriter, r *http.Request, o *op) error {
	if err := s.backend.AbortMultipartUpload(r.Context(), o.bucket, o.key, o.query.Get("uploadId")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listParts(w http.ResponseWriter, r *http.Request, o *op) error {
	q := o.query
	id := q.Get("uploadId")
	maxParts, err := intParam(q.Get("max-parts"), maxListKeys, "max-parts")
	if err != nil {
		return err
	}
	maxParts = min(maxParts, maxListKeys)
	marker, err := intParam(q.Get("part-number-marker"), 0, "part-number-marker")
	if err != nil {
		return err
	}
	// With max-parts=0 ask for one part, to learn whether there are more
	// and whether the upload exists, and show none.
	res, err := s.backend.ListParts(r.Context(), o.bucket, o.key, id, marker, max(maxParts, 1))
	if err != nil {
		return err
	}
	if maxParts == 0 {
		res = ListPartsResult{IsTruncated: len(res.Parts) > 0, NextPartNumberMarker: marker}
	}
	own := ownerOf(o)
	out := listPartsResult{
		Bucket:               o.bucket,
		Key:                  o.key,
		UploadID:             id,
		Initiator:            own,
		Owner:                own,
		StorageClass:         "STANDARD",
		PartNumberMarker:     marker,
		NextPartNumberMarker: res.NextPartNumberMarker,
		MaxParts:             maxParts,
		IsTruncated:          res.IsTruncated,
		Parts:                make([]partXML, 0, len(res.Parts)),
	}
	for _, pt := range res.Parts {
		out.Parts = append(out.Parts, partXML{
			PartNumber:   pt.Number,
			LastModified: isoTime(pt.LastModified),
			ETag:         quoteETag(pt.ETag),
			Size:         pt.Size,
		})
	}
	if out.IsTruncated && out.NextPartNumberMarker == 0 && len(res.Parts) > 0 {
		out.NextPartNumberMarker = res.Parts[len(res.Parts)-1].Number
	}
	return writeXML(w, http.StatusOK, out)
}

func (s *Server) listMultipartUploads(w http.ResponseWriter, r *http.Request, o *op) error {
	q := o.query
	maxUploads, err := intParam(q.Get("max-uploads"), maxListKeys, "max-uploads")
	if err != nil {
		return err
	}
	maxUploads = min(maxUploads, maxListKeys)
	encode, encType, err := encodingType(q.Get("encoding-type"))
	if err != nil {
		return err
	}
	uq := UploadQuery{
		Prefix:         q.Get("prefix"),
		Delimiter:      q.Get("delimiter"),
		KeyMarker:      q.Get("key-marker"),
		UploadIDMarker: q.Get("upload-id-marker"),
		MaxUploads:     maxUploads,
	}
	var res ListUploadsResult
	if maxUploads == 0 {
		_, err = s.backend.HeadBucket(r.Context(), o.bucket)
	} else {
		res, err = s.backend.ListMultipartUploads(r.Context(), o.bucket, uq)
	}
	if err != nil {
		return err
	}
	own := ownerOf(o)
	out := listMultipartUploadsResult{
		Bucket:             o.bucket,
		KeyMarker:          encode(uq.KeyMarker),
		UploadIDMarker:     uq.UploadIDMarker,
		NextKeyMarker:      encode(res.NextKeyMarker),
		NextUploadIDMarker: res.NextUploadIDMarker,
		Delimiter:          encode(uq.Delimiter),
		Prefix:             encode(uq.Prefix),
		EncodingType:       encType,
		MaxUploads:         maxUploads,
		IsTruncated:        res.IsTruncated,
		Uploads:            make([]uploadXML, 0, len(res.Uploads)),
	}
	for _, u := range res.Uploads {
		out.Uploads = append(out.Uploads, uploadXML{
			Key:          encode(u.Key),
			UploadID:     u.UploadID,
			Initiator:    own,
			Owner:        own,
			StorageClass: "STANDARD",
			Initiated:    isoTime(u.Initiated),
		})
	}
	for _, p := range res.CommonPrefixes {
		out.CommonPrefixes = append(out.CommonPrefixes, commonPrefix{Prefix: encode(p)})
	}
	return writeXML(w, http.StatusOK, out)
}
