// Package lifecycle carries out buckets' lifecycle rules (S3's
// PutBucketLifecycleConfiguration) in the background: it expires current
// versions by age (Expiration Days) or from a date (Expiration Date),
// noncurrent versions by how long they have been noncurrent
// (NoncurrentVersionExpiration, keeping NewerNoncurrentVersions), removes
// delete markers left alone (ExpiredObjectDeleteMarker), and aborts
// multipart uploads begun too long ago (AbortIncompleteMultipartUpload).
//
// A Runner runs on every metadata node and acts only while its node leads
// the metadata group (Config.Leader), as healing does. A pass walks every
// bucket that has enabled rules: its versions (ListObjectVersions, pages
// of Config.Page) and its uploads. What a pass decides it deletes through
// the metadata store's own commands (DeleteVersions, AbortUpload), so
// every rule S3 deletes by applies (a versioning bucket gets a delete
// marker when its current version expires), each delete names the
// version it decided on (meta.DeleteTarget.IfStamp: a version written
// since is not touched), and a version under object lock is refused by
// the state machine itself: a lifecycle rule never removes a locked
// version, it is retried at the next pass. The space of what is deleted
// is collected by garbage collection (internal/heal), after its grace.
//
// Time: a lifecycle "day" is Config.Day (storaged --lifecycle-day,
// default 24h), so that a test can make a day last seconds. A version
// expires Days lifecycle days after it was written, with no rounding to
// midnight (S3 rounds up to the next midnight UTC); an Expiration Date is
// a wall-clock date. Passes run every Config.Interval (default Day/24,
// at least one second).
//
// Filters: a rule matches keys with its prefix and versions with all its
// tags (Filter Tag, or And's Tags), each with the same value: the tags of
// the version itself (meta.Object.Tags, set by x-amz-tagging or
// PutObjectTagging), so a version retagged after it became noncurrent is
// judged by its new tags. A delete marker carries no tags: a rule with a
// tag filter never matches one. Uploads carry no tags either, so a rule
// with tags aborts no upload.
package lifecycle
