package s3gw

import "strings"

// iamActions maps each S3 operation (opSpec.name) to the IAM action a
// policy names to allow or deny it, where the two differ. An operation
// missing here is authorized as "s3:" + its name, which is AWS's rule for
// most of them (s3:PutObject, s3:GetBucketTagging, ...).
var iamActions = map[string]string{
	"ListBuckets":                     "s3:ListAllMyBuckets",
	"HeadBucket":                      "s3:ListBucket",
	"ListObjects":                     "s3:ListBucket",
	"ListObjectsV2":                   "s3:ListBucket",
	"ListObjectVersions":              "s3:ListBucketVersions",
	"ListMultipartUploads":            "s3:ListBucketMultipartUploads",
	"ListParts":                       "s3:ListMultipartUploadParts",
	"HeadObject":                      "s3:GetObject",
	"CopyObject":                      "s3:PutObject",
	"PostObject":                      "s3:PutObject",
	"DeleteObjects":                   "s3:DeleteObject",
	"CreateMultipartUpload":           "s3:PutObject",
	"UploadPart":                      "s3:PutObject",
	"UploadPartCopy":                  "s3:PutObject",
	"CompleteMultipartUpload":         "s3:PutObject",
	"GetObjectLockConfiguration":      "s3:GetBucketObjectLockConfiguration",
	"PutObjectLockConfiguration":      "s3:PutBucketObjectLockConfiguration",
	"DeleteBucketTagging":             "s3:PutBucketTagging",
	"GetBucketLifecycleConfiguration": "s3:GetLifecycleConfiguration",
	"PutBucketLifecycleConfiguration": "s3:PutLifecycleConfiguration",
	"DeleteBucketLifecycle":           "s3:PutLifecycleConfiguration",
	"GetBucketCors":                   "s3:GetBucketCORS",
	"PutBucketCors":                   "s3:PutBucketCORS",
	"DeleteBucketCors":                "s3:PutBucketCORS",
	"DeleteObjectTagging":             "s3:DeleteObjectTagging",
	"GetObjectAttributes":             "s3:GetObjectAttributes",
}

// versionActions are the actions that, on a request naming a versionId,
// become their Version form (s3:GetObject on ?versionId= is
// s3:GetObjectVersion).
var versionActions = map[string]string{
	"s3:GetObject":           "s3:GetObjectVersion",
	"s3:DeleteObject":        "s3:DeleteObjectVersion",
	"s3:GetObjectAcl":        "s3:GetObjectVersionAcl",
	"s3:PutObjectAcl":        "s3:PutObjectVersionAcl",
	"s3:GetObjectTagging":    "s3:GetObjectVersionTagging",
	"s3:PutObjectTagging":    "s3:PutObjectVersionTagging",
	"s3:DeleteObjectTagging": "s3:DeleteObjectVersionTagging",
	"s3:GetObjectAttributes": "s3:GetObjectVersionAttributes",
}

// iamAction returns the IAM action of o.
func iamAction(o *op) string {
	name := o.name()
	a, ok := iamActions[name]
	if !ok {
		a = "s3:" + name
	}
	if o.query.Has("versionId") {
		if v, ok := versionActions[a]; ok {
			a = v
		}
	}
	return a
}

// resourceARN returns the ARN of what o acts on: the object, the bucket,
// or every bucket for ListBuckets.
func resourceARN(o *op) string {
	switch {
	case o.bucket == "":
		return "arn:aws:s3:::*"
	case o.key == "":
		return "arn:aws:s3:::" + o.bucket
	}
	return "arn:aws:s3:::" + o.bucket + "/" + o.key
}

// opConditionKeys adds the S3 condition keys of o to rc.
func opConditionKeys(rc *reqContext, o *op) {
	q := o.query
	if strings.HasPrefix(rc.action, "s3:listbucket") {
		// s3:prefix is present (maybe empty) on every listing, as on AWS.
		rc.keys["s3:prefix"] = []string{q.Get("prefix")}
		if q.Has("delimiter") {
			rc.keys["s3:delimiter"] = []string{q.Get("delimiter")}
		}
		if q.Has("max-keys") {
			rc.keys["s3:max-keys"] = []string{q.Get("max-keys")}
		}
	}
	if q.Has("versionId") {
		rc.keys["s3:versionid"] = []string{q.Get("versionId")}
	}
}
