package s3gw

import (
	"context"
	"encoding/xml"
	"net/http"
	"sort"
	"strings"
)

// Canned ACLs. Cairn keeps an ACL as the name of a canned ACL: the
// bucket's in its configuration, an object's among its stored headers
// (under objectACLHeader, never sent back with the object). Grants that
// no canned ACL expresses are refused, never stored and ignored.
//
// Every Cairn key stands for the account that owns every bucket and
// object, so the grants that matter are those to everyone (AllUsers): an
// anonymous request is allowed what its bucket's or object's ACL grants
// AllUsers. AuthenticatedUsers (authenticated-read) adds nothing a key
// does not already have.

// objectACLHeader is the name under which an object's canned ACL is kept
// in ObjectInfo.Headers and PutOptions.Headers.
const objectACLHeader = "X-Amz-Acl"

// The ACL groups of AWS.
const (
	groupAllUsers     = "http://acs.amazonaws.com/groups/global/AllUsers"
	groupAuthUsers    = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
	xsiNamespace      = "http://www.w3.org/2001/XMLSchema-instance"
	permFullControl   = "FULL_CONTROL"
	permRead          = "READ"
	permWrite         = "WRITE"
	cannedPublicRead  = "public-read"
	cannedPublicWrite = "public-read-write"
	cannedAuthRead    = "authenticated-read"
)

// groupGrants are the grants besides the owner's FULL_CONTROL that each
// stored canned ACL makes.
var groupGrants = map[string][][2]string{
	"":                {},
	cannedPublicRead:  {{groupAllUsers, permRead}},
	cannedPublicWrite: {{groupAllUsers, permRead}, {groupAllUsers, permWrite}},
	cannedAuthRead:    {{groupAuthUsers, permRead}},
}

// parseCannedACL checks an x-amz-acl value and returns what is stored:
// "" for the ACLs that grant the owner alone (private, and the
// bucket-owner-* ones, the writer being the owner here).
func parseCannedACL(v string) (string, error) {
	switch v {
	case "", "private", "bucket-owner-read", "bucket-owner-full-control":
		return "", nil
	case cannedPublicRead, cannedPublicWrite, cannedAuthRead:
		return v, nil
	case "aws-exec-read", "log-delivery-write":
		return "", errNotImplemented.withMessage("The canned ACL %s grants to AWS services Cairn does not have.", v)
	}
	return "", errInvalidArgument.withMessage("Invalid canned ACL %q.", v)
}

// requestACL reads the canned ACL of a write (x-amz-acl), refusing the
// explicit grant headers.
func requestACL(h http.Header) (string, error) {
	for k := range h {
		if strings.HasPrefix(strings.ToLower(k), "x-amz-grant-") {
			return "", errNotImplemented.withMessage("Explicit grants (%s) are not implemented: Cairn keeps canned ACLs only.", strings.ToLower(k))
		}
	}
	return parseCannedACL(h.Get("X-Amz-Acl"))
}

// aclAllowsAnonymous reports whether a bucket's (onObject false) or an
// object's canned ACL grants an anonymous request the IAM action: READ
// lists a bucket or reads an object, WRITE on a bucket writes and deletes
// its objects.
func aclAllowsAnonymous(acl, action string, onObject bool) bool {
	read := acl == cannedPublicRead || acl == cannedPublicWrite
	if onObject {
		return read && (action == "s3:getobject" || action == "s3:getobjectversion")
	}
	switch action {
	case "s3:listbucket", "s3:listbucketversions", "s3:listbucketmultipartuploads":
		return read
	}
	return false
}

// bucketACLAllowsWrite reports whether a bucket's ACL lets anonymous
// requests write and delete its objects (WRITE).
func bucketACLAllowsWrite(acl, action string) bool {
	if acl != cannedPublicWrite {
		return false
	}
	switch action {
	case "s3:putobject", "s3:deleteobject", "s3:abortmultipartupload":
		return true
	}
	return false
}

// objectACLAllows reports whether the object o names has a canned ACL
// that lets an anonymous request take action on it.
func (s *Server) objectACLAllows(ctx context.Context, o *op, action string) bool {
	if o.key == "" || (action != "s3:getobject" && action != "s3:getobjectversion") {
		return false
	}
	var obj Object
	var err error
	if vb, ok := s.backend.(VersionedBackend); ok {
		obj, err = vb.GetObjectVersion(ctx, o.bucket, o.key, o.query.Get("versionId"))
	} else {
		obj, err = s.backend.GetObject(ctx, o.bucket, o.key)
	}
	if err != nil {
		return false // an anonymous request learns nothing of what is missing
	}
	info := obj.Info()
	return !info.DeleteMarker && aclAllowsAnonymous(info.Headers[objectACLHeader], action, true)
}

// The ACL operations.
var (
	opGetBucketACL = &opSpec{"GetBucketAcl", (*Server).getBucketACL}
	opPutBucketACL = &opSpec{"PutBucketAcl", (*Server).putBucketACL}
	opGetObjectACL = &opSpec{"GetObjectAcl", (*Server).getObjectACL}
	opPutObjectACL = &opSpec{"PutObjectAcl", (*Server).putObjectACL}
)

// granteeXML is a Grantee, as S3 writes it.
type granteeXML struct {
	XMLNSXsi    string `xml:"xmlns:xsi,attr"`
	Type        string `xml:"xsi:type,attr"`
	ID          string `xml:"ID,omitempty"`
	DisplayName string `xml:"DisplayName,omitempty"`
	URI         string `xml:"URI,omitempty"`
}

type grantXML struct {
	Grantee    granteeXML `xml:"Grantee"`
	Permission string     `xml:"Permission"`
}

type accessControlPolicyXML struct {
	XMLName xml.Name
	Owner   owner      `xml:"Owner"`
	Grants  []grantXML `xml:"AccessControlList>Grant"`
}

// aclXML is the AccessControlPolicy of a canned ACL, the requester
// standing as the owner.
func aclXML(o *op, canned string) accessControlPolicyXML {
	own := ownerOf(o)
	out := accessControlPolicyXML{XMLName: s3Name("AccessControlPolicy"), Owner: own}
	out.Grants = append(out.Grants, grantXML{
		Grantee:    granteeXML{XMLNSXsi: xsiNamespace, Type: "CanonicalUser", ID: own.ID, DisplayName: own.DisplayName},
		Permission: permFullControl,
	})
	for _, g := range groupGrants[canned] {
		out.Grants = append(out.Grants, grantXML{
			Grantee:    granteeXML{XMLNSXsi: xsiNamespace, Type: "Group", URI: g[0]},
			Permission: g[1],
		})
	}
	return out
}

// putACLXML is an AccessControlPolicy as a client sends it.
type putACLXML struct {
	Grants []struct {
		Grantee struct {
			Type         string `xml:"http://www.w3.org/2001/XMLSchema-instance type,attr"`
			ID           string `xml:"ID"`
			URI          string `xml:"URI"`
			EmailAddress string `xml:"EmailAddress"`
		} `xml:"Grantee"`
		Permission string `xml:"Permission"`
	} `xml:"AccessControlList>Grant"`
}

// cannedOf returns the canned ACL whose grants a document lists: the
// owner's FULL_CONTROL (any canonical user stands for the owner: every key
// does) and the groups' of one canned ACL. Anything else is refused.
func cannedOf(doc *putACLXML) (string, error) {
	var groups []string
	for _, g := range doc.Grants {
		switch {
		case g.Grantee.Type == "CanonicalUser" && g.Permission == permFullControl:
		case g.Grantee.Type == "Group" && (g.Permission == permRead || g.Permission == permWrite):
			groups = append(groups, g.Grantee.URI+" "+g.Permission)
		default:
			return "", errNotImplemented.withMessage("The grant of %s to %s %s%s%s cannot be kept: Cairn keeps canned ACLs only (private, public-read, public-read-write, authenticated-read).",
				g.Permission, g.Grantee.Type, g.Grantee.ID, g.Grantee.URI, g.Grantee.EmailAddress)
		}
	}
	sort.Strings(groups)
	for canned, gs := range groupGrants {
		var want []string
		for _, g := range gs {
			want = append(want, g[0]+" "+g[1])
		}
		sort.Strings(want)
		if strings.Join(want, "\n") == strings.Join(groups, "\n") {
			return canned, nil
		}
	}
	return "", errNotImplemented.withMessage("These grants (%s) cannot be kept: Cairn keeps canned ACLs only (private, public-read, public-read-write, authenticated-read).", strings.Join(groups, ", "))
}

// aclOfRequest returns the canned ACL a PUT ?acl asks for: its x-amz-acl,
// or its AccessControlPolicy document.
func aclOfRequest(r *http.Request, o *op) (string, error) {
	canned, err := requestACL(r.Header)
	if err != nil || r.Header.Get("X-Amz-Acl") != "" {
		return canned, err
	}
	var doc putACLXML
	if err := readConfigXML(r, o, &doc, false); err != nil {
		return "", err
	}
	return cannedOf(&doc)
}

func (s *Server) getBucketACL(w http.ResponseWriter, r *http.Request, o *op) error {
	vb, _, err := s.access()
	if err != nil {
		return err
	}
	cfg, err := vb.BucketConfig(r.Context(), o.bucket)
	if err != nil {
		return err
	}
	return writeXML(w, http.StatusOK, aclXML(o, cfg.ACL))
}

func (s *Server) putBucketACL(w http.ResponseWriter, r *http.Request, o *op) error {
	_, ab, err := s.access()
	if err != nil {
		return err
	}
	canned, err := aclOfRequest(r, o)
	if err != nil {
		return err
	}
	if err := ab.SetBucketACL(r.Context(), o.bucket, canned); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) getObjectACL(w http.ResponseWriter, r *http.Request, o *op) error {
	vb, err := s.versioned()
	if err != nil {
		return err
	}
	obj, err := vb.GetObjectVersion(r.Context(), o.bucket, o.key, o.query.Get("versionId"))
	if err != nil {
		return err
	}
	info := obj.Info()
	if info.DeleteMarker {
		return ErrNoSuchKey
	}
	if info.VersionID != "" {
		w.Header().Set("X-Amz-Version-Id", info.VersionID)
	}
	return writeXML(w, http.StatusOK, aclXML(o, info.Headers[objectACLHeader]))
}

// putObjectACL changes an object's canned ACL by copying the object onto
// itself (the chunks are shared, nothing is moved) if it is still the
// version read: the object keeps its bytes, ETag and metadata, and takes a
// new Last-Modified. On a bucket that has had versioning, the copy would
// be a new version, so the ACL of an object there is set when it is
// written, not after.
func (s *Server) putObjectACL(w http.ResponseWriter, r *http.Request, o *op) error {
	vb, err := s.versioned()
	if err != nil {
		return err
	}
	canned, err := aclOfRequest(r, o)
	if err != nil {
		return err
	}
	cfg, err := vb.BucketConfig(r.Context(), o.bucket)
	if err != nil {
		return err
	}
	if cfg.Versioning != "" || o.query.Get("versionId") != "" {
		return errNotImplemented.withMessage("PutObjectAcl on a bucket with versioning is not implemented: set x-amz-acl when the object is written.")
	}
	obj, err := vb.GetObjectVersion(r.Context(), o.bucket, o.key, "")
	if err != nil {
		return err
	}
	info := obj.Info()
	put := PutOptions{ContentType: info.ContentType, Headers: map[string]string{}, UserMeta: info.UserMeta,
		Cond: &WriteCond{IfMatch: info.ETag}}
	for k, v := range info.Headers {
		if k != objectACLHeader {
			put.Headers[k] = v
		}
	}
	if canned != "" {
		put.Headers[objectACLHeader] = canned
	}
	if _, err := vb.CopyObjectVersion(r.Context(), o.bucket, o.key, "", o.bucket, o.key,
		CopyOptions{ReplaceMetadata: true, Put: put}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// copyACL makes a copy that keeps its source's metadata (COPY directive)
// take the ACL of the request, not the source's, as S3 does: the copy is
// written with the source's metadata replaced by itself.
func copyACL(r *http.Request, src ObjectInfo, opts *CopyOptions) error {
	if opts.ReplaceMetadata {
		return nil // putOptions read the request's ACL
	}
	canned, err := requestACL(r.Header)
	if err != nil || canned == src.Headers[objectACLHeader] {
		return err
	}
	opts.ReplaceMetadata = true
	opts.Put.ContentType = src.ContentType
	opts.Put.UserMeta = src.UserMeta
	opts.Put.Headers = map[string]string{}
	for k, v := range src.Headers {
		if k != objectACLHeader {
			opts.Put.Headers[k] = v
		}
	}
	if canned != "" {
		opts.Put.Headers[objectACLHeader] = canned
	}
	return nil
}

// createACL reads the canned ACL of a CreateBucket, refusing one the
// backend cannot keep.
func (s *Server) createACL(r *http.Request) (string, error) {
	acl, err := requestACL(r.Header)
	if err == nil && acl != "" {
		_, _, err = s.access()
	}
	return acl, err
}

// setCreatedACL gives a bucket just created its canned ACL: a second
// write after the bucket's, so that a gateway that fails between the two
// leaves a private bucket, never a public one.
func (s *Server) setCreatedACL(ctx context.Context, bucket, acl string) error {
	if acl == "" {
		return nil
	}
	_, ab, err := s.access()
	if err != nil {
		return err
	}
	return ab.SetBucketACL(ctx, bucket, acl)
}
