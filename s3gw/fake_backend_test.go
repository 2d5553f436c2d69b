package s3gw

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"
)

// memBackend is an in-memory Backend with S3's semantics, for testing the
// protocol layer. It honours the contract the gateway relies on: bodies are
// read to EOF before anything is committed.
type memBackend struct {
	mu          sync.Mutex
	now         func() time.Time
	minPartSize int64
	plainAtRest bool // EncryptsAtRest is false: SSE-S3 is refused
	buckets     map[string]*memBucket
	uploads     map[string]*memUpload
	nextID      int
}

type memBucket struct {
	created time.Time
	objects map[string]*memObject
}

type memObject struct {
	info ObjectInfo
	data []byte
}

type memUpload struct {
	bucket, key string
	opts        PutOptions
	initiated   time.Time
	parts       map[int]*memPart
}

type memPart struct {
	info PartInfo
	data []byte
}

var (
	_ Backend      = (*memBackend)(nil)
	_ ObjectTagger = (*memBackend)(nil)
	_ Encrypter    = (*memBackend)(nil)
)

func newMemBackend() *memBackend {
	return &memBackend{
		now:         time.Now,
		minPartSize: 5 << 20,
		buckets:     map[string]*memBucket{},
		uploads:     map[string]*memUpload{},
	}
}

type memCreds map[string]string

func (m memCreds) SecretKey(_ context.Context, ak string) (string, error) {
	if s, ok := m[ak]; ok {
		return s, nil
	}
	return "", ErrInvalidAccessKeyID
}

func fakeCID(data []byte) string {
	sum := sha256.Sum256(data)
	return "bafkrei" + hex.EncodeToString(sum[:])[:40]
}

func (m *memBackend) ListBuckets(context.Context) ([]BucketInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []BucketInfo
	for name, b := range m.buckets {
		out = append(out, BucketInfo{Name: name, Created: b.created})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (m *memBackend) CreateBucket(_ context.Context, bucket string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.buckets[bucket]; ok {
		return ErrBucketAlreadyOwnedByYou
	}
	m.buckets[bucket] = &memBucket{created: m.now(), objects: map[string]*memObject{}}
	return nil
}

func (m *memBackend) HeadBucket(_ context.Context, bucket string) (BucketInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.buckets[bucket]
	if !ok {
		return BucketInfo{}, ErrNoSuchBucket
	}
	return BucketInfo{Name: bucket, Created: b.created}, nil
}

func (m *memBackend) DeleteBucket(_ context.Context, bucket string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.buckets[bucket]
	if !ok {
		return ErrNoSuchBucket
	}
	if len(b.objects) > 0 {
		return ErrBucketNotEmpty
	}
	delete(m.buckets, bucket)
	return nil
}

func (m *memBackend) bucket(name string) (*memBucket, error) {
	b, ok := m.buckets[name]
	if !ok {
		return nil, ErrNoSuchBucket
	}
	return b, nil
}

func readBody(r io.Reader, size int64) ([]byte, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("membackend: read body: %w", err)
	}
	if size >= 0 && int64(len(data)) != size {
		return nil, ErrIncompleteBody
	}
	return data, nil
}

func (m *memBackend) PutObject(_ context.Context, bucket, key string, r io.Reader, size int64, opts PutOptions) (ObjectInfo, error) {
	m.mu.Lock()
	_, err := m.bucket(bucket)
	m.mu.Unlock()
	if err != nil {
		return ObjectInfo{}, err
	}
	data, err := readBody(r, size)
	if err != nil {
		return ObjectInfo{}, err
	}
	sum := md5.Sum(data)
	if opts.ContentMD5 != nil && !bytes.Equal(opts.ContentMD5, sum[:]) {
		return ObjectInfo{}, ErrBadDigest
	}
	info := ObjectInfo{
		Key:          key,
		Size:         int64(len(data)),
		ETag:         hex.EncodeToString(sum[:]),
		CID:          fakeCID(data),
		LastModified: m.now(),
		ContentType:  opts.ContentType,
		Headers:      opts.Headers,
		UserMeta:     opts.UserMeta,
		Tags:         opts.Tags,
		SSE:          stored(opts.SSE),
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	b, err := m.bucket(bucket)
	if err != nil {
		return ObjectInfo{}, err
	}
	b.objects[key] = &memObject{info: info, data: data}
	return info, nil
}

type memHandle struct{ obj *memObject }

func (h memHandle) Info() ObjectInfo { return h.obj.info }

// Open reads an object stored with a customer key only with that key, as
// a Backend must (the fake keeps the bytes in the clear).
func (h memHandle) Open(ctx context.Context, off, n int64) (io.ReadCloser, error) {
	if check := h.obj.info.SSE.CustomerKeyCheck; check != nil && !CustomerKeyMatches(check, CustomerKey(ctx)) {
		return nil, ErrCustomerKeyMismatch
	}
	return io.NopCloser(bytes.NewReader(h.obj.data[off : off+n])), nil
}

// stored is the encryption an object records: never the key.
func stored(e Encryption) Encryption {
	e.CustomerKey = nil
	return e
}

func (m *memBackend) EncryptsAtRest() bool { return !m.plainAtRest }
func (m *memBackend) CustomerKeys() bool   { return true }

func (m *memBackend) GetObject(_ context.Context, bucket, key string) (Object, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, err := m.bucket(bucket)
	if err != nil {
		return nil, err
	}
	o, ok := b.objects[key]
	if !ok {
		return nil, ErrNoSuchKey
	}
	return memHandle{o}, nil
}

func (m *memBackend) DeleteObject(_ context.Context, bucket, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, err := m.bucket(bucket)
	if err != nil {
		return err
	}
	delete(b.objects, key)
	return nil
}

func (m *memBackend) DeleteObjects(ctx context.Context, bucket string, keys []string) ([]error, error) {
	out := make([]error, len(keys))
	for i, k := range keys {
		if err := m.DeleteObject(ctx, bucket, k); err != nil {
			return nil, err
		}
		out[i] = nil
	}
	return out, nil
}

func (m *memBackend) CopyObject(_ context.Context, srcBucket, srcKey, dstBucket, dstKey string, opts CopyOptions) (ObjectInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	sb, err := m.bucket(srcBucket)
	if err != nil {
		return ObjectInfo{}, err
	}
	src, ok := sb.objects[srcKey]
	if !ok {
		return ObjectInfo{}, ErrNoSuchKey
	}
	db, err := m.bucket(dstBucket)
	if err != nil {
		return ObjectInfo{}, err
	}
	info := src.info
	info.Key = dstKey
	info.LastModified = m.now()
	if opts.ReplaceMetadata {
		info.ContentType = opts.Put.ContentType
		info.Headers = opts.Put.Headers
		info.UserMeta = opts.Put.UserMeta
	}
	if opts.ReplaceTags {
		info.Tags = opts.Tags
	}
	info.SSE = Encryption{S3: opts.SSES3}
	db.objects[dstKey] = &memObject{info: info, data: src.data}
	return info, nil
}

func (m *memBackend) SetObjectTags(_ context.Context, bucket, key string, tags map[string]string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, err := m.bucket(bucket)
	if err != nil {
		return err
	}
	o, ok := b.objects[key]
	if !ok {
		return ErrNoSuchKey
	}
	info := o.info
	info.Tags = tags
	b.objects[key] = &memObject{info: info, data: o.data}
	return nil
}

func (m *memBackend) ListObjects(_ context.Context, bucket string, q ListQuery) (ListResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, err := m.bucket(bucket)
	if err != nil {
		return ListResult{}, err
	}
	keys := make([]string, 0, len(b.objects))
	for k := range b.objects {
		if strings.HasPrefix(k, q.Prefix) && k > q.Marker {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	max := q.MaxKeys
	if max <= 0 {
		max = 1000
	}
	var res ListResult
	n := 0
	lastPrefix := ""
	for _, k := range keys {
		entry, isPrefix := k, false
		if q.Delimiter != "" {
			if i := strings.Index(k[len(q.Prefix):], q.Delimiter); i >= 0 {
				entry, isPrefix = k[:len(q.Prefix)+i+len(q.Delimiter)], true
				if entry == lastPrefix || entry <= q.Marker {
					continue
				}
			}
		}
		if n == max {
			res.IsTruncated = true
			break
		}
		n++
		res.NextMarker = entry
		if isPrefix {
			lastPrefix = entry
			res.CommonPrefixes = append(res.CommonPrefixes, entry)
		} else {
			res.Objects = append(res.Objects, b.objects[k].info)
		}
	}
	if !res.IsTruncated {
		res.NextMarker = ""
	}
	return res, nil
}

func (m *memBackend) CreateMultipartUpload(_ context.Context, bucket, key string, opts PutOptions) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := m.bucket(bucket); err != nil {
		return "", err
	}
	m.nextID++
	id := fmt.Sprintf("upload-%06d", m.nextID)
	m.uploads[id] = &memUpload{bucket: bucket, key: key, opts: opts, initiated: m.now(), parts: map[int]*memPart{}}
	return id, nil
}

func (m *memBackend) upload(bucket, key, id string) (*memUpload, error) {
	u, ok := m.uploads[id]
	if !ok || u.bucket != bucket || u.key != key {
		return nil, ErrNoSuchUpload
	}
	return u, nil
}

func (m *memBackend) UploadPart(_ context.Context, bucket, key, id string, part int, r io.Reader, size int64, opts PutOptions) (PartInfo, error) {
	m.mu.Lock()
	u, err := m.upload(bucket, key, id)
	m.mu.Unlock()
	if err == nil {
		switch check, k := u.opts.SSE.CustomerKeyCheck, opts.SSE.CustomerKey; {
		case check == nil && k != nil:
			err = ErrCustomerKeyNotApplicable
		case check != nil && k == nil:
			err = ErrCustomerKeyRequired
		case check != nil && !CustomerKeyMatches(check, k):
			err = ErrCustomerKeyMismatch
		}
	}
	if err != nil {
		return PartInfo{}, err
	}
	data, err := readBody(r, size)
	if err != nil {
		return PartInfo{}, err
	}
	sum := md5.Sum(data)
	if opts.ContentMD5 != nil && !bytes.Equal(opts.ContentMD5, sum[:]) {
		return PartInfo{}, ErrBadDigest
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if u, err = m.upload(bucket, key, id); err != nil {
		return PartInfo{}, err
	}
	info := PartInfo{Number: part, ETag: hex.EncodeToString(sum[:]), Size: int64(len(data)), LastModified: m.now(), SSES3: u.opts.SSE.S3}
	u.parts[part] = &memPart{info: info, data: data}
	return info, nil
}

func (m *memBackend) CompleteMultipartUpload(_ context.Context, bucket, key, id string, parts []CompletePart) (ObjectInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	u, err := m.upload(bucket, key, id)
	if err != nil {
		return ObjectInfo{}, err
	}
	var data, sums []byte
	var sizes []int64
	for i, p := range parts {
		if i > 0 && p.Number <= parts[i-1].Number {
			return ObjectInfo{}, ErrInvalidPartOrder
		}
		mp, ok := u.parts[p.Number]
		if !ok || mp.info.ETag != p.ETag {
			return ObjectInfo{}, ErrInvalidPart
		}
		if i < len(parts)-1 && mp.info.Size < m.minPartSize {
			return ObjectInfo{}, ErrEntityTooSmall
		}
		data = append(data, mp.data...)
		sizes = append(sizes, mp.info.Size)
		s, _ := hex.DecodeString(mp.info.ETag)
		sums = append(sums, s...)
	}
	b, err := m.bucket(bucket)
	if err != nil {
		return ObjectInfo{}, err
	}
	sum := md5.Sum(sums)
	info := ObjectInfo{
		Key:          key,
		Size:         int64(len(data)),
		ETag:         fmt.Sprintf("%s-%d", hex.EncodeToString(sum[:]), len(parts)),
		CID:          fakeCID(data),
		LastModified: m.now(),
		ContentType:  u.opts.ContentType,
		Headers:      u.opts.Headers,
		UserMeta:     u.opts.UserMeta,
		Tags:         u.opts.Tags,
		SSE:          stored(u.opts.SSE),
		PartsCount:   len(parts),
		PartSizes:    sizes,
	}
	b.objects[key] = &memObject{info: info, data: data}
	delete(m.uploads, id)
	return info, nil
}

func (m *memBackend) AbortMultipartUpload(_ context.Context, bucket, key, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := m.upload(bucket, key, id); err != nil {
		return err
	}
	delete(m.uploads, id)
	return nil
}

func (m *memBackend) ListParts(_ context.Context, bucket, key, id string, marker, max int) (ListPartsResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	u, err := m.upload(bucket, key, id)
	if err != nil {
		return ListPartsResult{}, err
	}
	var nums []int
	for n := range u.parts {
		if n > marker {
			nums = append(nums, n)
		}
	}
	sort.Ints(nums)
	res := ListPartsResult{Initiated: u.initiated}
	for _, n := range nums {
		if len(res.Parts) == max {
			res.IsTruncated = true
			break
		}
		res.Parts = append(res.Parts, u.parts[n].info)
		res.NextPartNumberMarker = n
	}
	return res, nil
}

func (m *memBackend) ListMultipartUploads(_ context.Context, bucket string, q UploadQuery) (ListUploadsResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := m.bucket(bucket); err != nil {
		return ListUploadsResult{}, err
	}
	var all []UploadInfo
	for id, u := range m.uploads {
		if u.bucket == bucket && strings.HasPrefix(u.key, q.Prefix) &&
			(u.key > q.KeyMarker || (u.key == q.KeyMarker && id > q.UploadIDMarker)) {
			all = append(all, UploadInfo{Key: u.key, UploadID: id, Initiated: u.initiated})
		}
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].Key != all[j].Key {
			return all[i].Key < all[j].Key
		}
		return all[i].UploadID < all[j].UploadID
	})
	var res ListUploadsResult
	for _, u := range all {
		if len(res.Uploads) == q.MaxUploads {
			res.IsTruncated = true
			break
		}
		res.Uploads = append(res.Uploads, u)
		res.NextKeyMarker, res.NextUploadIDMarker = u.Key, u.UploadID
	}
	return res, nil
}
