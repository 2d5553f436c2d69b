package metarpc

import (
	"time"

	"cairn/internal/meta"
)

// The JSON bodies of version 1 (doc.go, "Wire format"). The records that
// meta stores (Bucket, Object, Upload, Part, Key, Layout) travel with
// meta's own JSON tags; the query and result types, which meta does not
// tag, have tagged mirrors here so that the wire does not change with a
// field renamed in meta. Slices keep null apart from [] (no omitempty on
// results), so a result decodes equal to the Store's.

// Requests.
type (
	noArgs struct{}

	createBucketReq struct {
		Name string    `json:"name"`
		Now  time.Time `json:"now"`
	}
	bucketReq struct {
		Name string `json:"name"`
	}
	objectReq struct {
		Object *meta.Object `json:"object"`
	}
	objectKeyReq struct {
		Bucket string `json:"bucket"`
		Key    string `json:"key"`
	}
	deleteObjectsReq struct {
		Bucket string   `json:"bucket"`
		Keys   []string `json:"keys"`
	}
	listObjectsReq struct {
		Bucket string    `json:"bucket"`
		Query  listQuery `json:"query"`
	}
	uploadReq struct {
		Upload *meta.Upload `json:"upload"`
	}
	uploadIDReq struct {
		Bucket string `json:"bucket"`
		Key    string `json:"key"`
		ID     string `json:"id"`
	}
	putPartReq struct {
		Bucket string     `json:"bucket"`
		Key    string     `json:"key"`
		ID     string     `json:"id"`
		Part   *meta.Part `json:"part"`
	}
	listPartsReq struct {
		Bucket string `json:"bucket"`
		Key    string `json:"key"`
		ID     string `json:"id"`
		Marker int    `json:"marker"`
		Limit  int    `json:"limit"`
	}
	completeUploadReq struct {
		ID     string       `json:"id"`
		Parts  []partRef    `json:"parts"`
		Object *meta.Object `json:"object"`
	}
	listUploadsReq struct {
		Bucket string      `json:"bucket"`
		Query  uploadQuery `json:"query"`
	}
	keyReq struct {
		Key *meta.Key `json:"key"`
	}
	keyIDReq struct {
		ID string `json:"id"`
	}
	layoutReq struct {
		Layout *meta.Layout `json:"layout"`
	}
	layoutVersionReq struct {
		Version uint64 `json:"version"`
	}
	garbageReq struct {
		OlderThan time.Time `json:"older_than"`
		Limit     int       `json:"limit"`
	}
	forgetGarbageReq struct {
		CIDs [][]byte `json:"cids"`
	}
	collectReq struct {
		CIDs      [][]byte  `json:"cids"`
		OlderThan time.Time `json:"older_than"`
	}
	chunksReq struct {
		After []byte `json:"after"`
		Limit int    `json:"limit"`
	}
	setStripeNodesReq struct {
		CID    []byte   `json:"cid"`
		Old    []string `json:"old"`
		Nodes  []string `json:"nodes"`
		Layout uint64   `json:"layout"`
	}
	chunkRefsReq struct {
		CID []byte `json:"cid"`
	}
	addReputationReq struct {
		Deltas []reputationDelta `json:"deltas"`
	}
	chunkByNameReq struct {
		Name []byte `json:"name"`
	}
	replaceStripeReq struct {
		CID    []byte      `json:"cid"`
		Old    [][]byte    `json:"old"`
		Stripe meta.Stripe `json:"stripe"`
	}
	setSealMigrationReq struct {
		On bool `json:"on"`
	}
	setObjectTagsReq struct {
		Bucket string            `json:"bucket"`
		Key    string            `json:"key"`
		Tags   map[string]string `json:"tags"`
	}
)

// Results (the body of a 200 answer).
type (
	noResult struct{}

	bucketResult struct {
		Bucket *meta.Bucket `json:"bucket"`
	}
	bucketsResult struct {
		Buckets []*meta.Bucket `json:"buckets"`
	}
	objectResult struct {
		Object *meta.Object `json:"object"`
	}
	listObjectsResult struct {
		Objects        []*meta.Object `json:"objects"`
		CommonPrefixes []string       `json:"common_prefixes"`
		Truncated      bool           `json:"truncated"`
		NextMarker     string         `json:"next_marker"`
	}
	uploadResult struct {
		Upload *meta.Upload `json:"upload"`
	}
	listPartsResult struct {
		Parts     []*meta.Part `json:"parts"`
		Truncated bool         `json:"truncated"`
	}
	listUploadsResult struct {
		Uploads            []*meta.Upload `json:"uploads"`
		CommonPrefixes     []string       `json:"common_prefixes"`
		Truncated          bool           `json:"truncated"`
		NextKeyMarker      string         `json:"next_key_marker"`
		NextUploadIDMarker string         `json:"next_upload_id_marker"`
	}
	keyResult struct {
		Key *meta.Key `json:"key"`
	}
	keysResult struct {
		Keys []*meta.Key `json:"keys"`
	}
	layoutResult struct {
		Layout *meta.Layout `json:"layout"` // null: no layout set yet
	}
	garbageResult struct {
		Chunks []garbageChunk `json:"chunks"`
	}
	chunkResult struct {
		Chunk *chunkInfo `json:"chunk"`
	}
	chunksResult struct {
		Chunks []chunkInfo `json:"chunks"`
		Next   []byte      `json:"next"`
	}
	chunkRefsResult struct {
		Refs int64 `json:"refs"`
	}
	reputationsResult struct {
		Reputations []meta.Reputation `json:"reputations"`
	}
	sealMigrationResult struct {
		On bool `json:"on"`
	}
)

// errorBody is the body of every answer but a 200.
type errorBody struct {
	Error *wireError `json:"error"`
}

// wireError is an error as it travels. Leader fields are set with code
// NotLeader only, each when the answering node knows it.
type wireError struct {
	Code       string `json:"code"`
	Message    string `json:"message"`
	LeaderID   string `json:"leader_id,omitempty"`
	LeaderAddr string `json:"leader_addr,omitempty"` // raft address
	LeaderAPI  string `json:"leader_api,omitempty"`  // node API base URL
}

// Tagged mirrors of meta's untagged types.
type (
	listQuery struct {
		Prefix    string `json:"prefix"`
		Delimiter string `json:"delimiter"`
		Marker    string `json:"marker"`
		Max       int    `json:"max"`
	}
	uploadQuery struct {
		Prefix         string `json:"prefix"`
		Delimiter      string `json:"delimiter"`
		KeyMarker      string `json:"key_marker"`
		UploadIDMarker string `json:"upload_id_marker"`
		Max            int    `json:"max"`
	}
	partRef struct {
		Number int    `json:"n"`
		ETag   string `json:"etag"`
	}
	garbageChunk struct {
		CID        []byte      `json:"cid"`
		Stripe     meta.Stripe `json:"stripe"`
		Since      time.Time   `json:"since"`
		Collecting bool        `json:"collecting,omitempty"`
	}
	chunkInfo struct {
		CID    []byte          `json:"cid"`
		Size   int64           `json:"size"`
		Refs   int64           `json:"refs"`
		State  meta.ChunkState `json:"state"`
		Since  time.Time       `json:"since"`
		Stripe meta.Stripe     `json:"stripe"`
	}
	reputationDelta struct {
		Node        string    `json:"node"`
		Passed      int64     `json:"passed"`
		Missing     int64     `json:"missing"`
		Corrupt     int64     `json:"corrupt"`
		Lies        int64     `json:"lies"`
		LastAudit   time.Time `json:"last_audit"`
		LastFailure time.Time `json:"last_failure"`
		Eject       bool      `json:"eject,omitempty"`
		Reason      string    `json:"reason,omitempty"`
		Pardon      bool      `json:"pardon,omitempty"`
	}
)

func toListQuery(q meta.ListQuery) listQuery { return listQuery(q) }
func (q listQuery) meta() meta.ListQuery     { return meta.ListQuery(q) }

func toUploadQuery(q meta.UploadQuery) uploadQuery { return uploadQuery(q) }
func (q uploadQuery) meta() meta.UploadQuery       { return meta.UploadQuery(q) }

func toListObjectsResult(r *meta.ListResult) *listObjectsResult {
	return &listObjectsResult{Objects: r.Objects, CommonPrefixes: r.CommonPrefixes, Truncated: r.Truncated, NextMarker: r.NextMarker}
}

func (r *listObjectsResult) meta() *meta.ListResult {
	return &meta.ListResult{Objects: r.Objects, CommonPrefixes: r.CommonPrefixes, Truncated: r.Truncated, NextMarker: r.NextMarker}
}

func toListUploadsResult(r *meta.UploadList) *listUploadsResult {
	return &listUploadsResult{Uploads: r.Uploads, CommonPrefixes: r.CommonPrefixes, Truncated: r.Truncated,
		NextKeyMarker: r.NextKeyMarker, NextUploadIDMarker: r.NextUploadIDMarker}
}

func (r *listUploadsResult) meta() *meta.UploadList {
	return &meta.UploadList{Uploads: r.Uploads, CommonPrefixes: r.CommonPrefixes, Truncated: r.Truncated,
		NextKeyMarker: r.NextKeyMarker, NextUploadIDMarker: r.NextUploadIDMarker}
}

func toPartRefs(refs []meta.PartRef) []partRef {
	if refs == nil {
		return nil
	}
	out := make([]partRef, len(refs))
	for i, r := range refs {
		out[i] = partRef(r)
	}
	return out
}

func metaPartRefs(refs []partRef) []meta.PartRef {
	if refs == nil {
		return nil
	}
	out := make([]meta.PartRef, len(refs))
	for i, r := range refs {
		out[i] = meta.PartRef(r)
	}
	return out
}

func toGarbage(g []meta.GarbageChunk) []garbageChunk {
	if g == nil {
		return nil
	}
	out := make([]garbageChunk, len(g))
	for i, c := range g {
		out[i] = garbageChunk(c)
	}
	return out
}

func metaGarbage(g []garbageChunk) []meta.GarbageChunk {
	if g == nil {
		return nil
	}
	out := make([]meta.GarbageChunk, len(g))
	for i, c := range g {
		out[i] = meta.GarbageChunk(c)
	}
	return out
}

func toChunkInfo(c *meta.ChunkInfo) *chunkInfo {
	if c == nil {
		return nil
	}
	ci := chunkInfo(*c)
	return &ci
}

func toChunkInfos(cs []meta.ChunkInfo) []chunkInfo {
	if cs == nil {
		return nil
	}
	out := make([]chunkInfo, len(cs))
	for i, c := range cs {
		out[i] = chunkInfo(c)
	}
	return out
}

func metaChunkInfos(cs []chunkInfo) []meta.ChunkInfo {
	if cs == nil {
		return nil
	}
	out := make([]meta.ChunkInfo, len(cs))
	for i, c := range cs {
		out[i] = meta.ChunkInfo(c)
	}
	return out
}

func toReputationDeltas(ds []meta.ReputationDelta) []reputationDelta {
	if ds == nil {
		return nil
	}
	out := make([]reputationDelta, len(ds))
	for i, d := range ds {
		out[i] = reputationDelta(d)
	}
	return out
}

func metaReputationDeltas(ds []reputationDelta) []meta.ReputationDelta {
	if ds == nil {
		return nil
	}
	out := make([]meta.ReputationDelta, len(ds))
	for i, d := range ds {
		out[i] = meta.ReputationDelta(d)
	}
	return out
}
