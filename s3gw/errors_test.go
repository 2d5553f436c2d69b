package s3gw

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7/pkg/signer"
)

func b64MD5(b []byte) string {
	s := md5.Sum(b)
	return base64.StdEncoding.EncodeToString(s[:])
}

// setupErrors makes bucket "bkt" with object "obj" = "0123456789" and an
// upload "mp" with two small parts.
func setupErrors(t *testing.T) (*testEnv, string, [2]string) {
	e := newTestEnv(t, false)
	e.must(200, "PUT", "/bkt", nil)
	e.must(200, "PUT", "/bkt/obj", []byte("0123456789"))
	_, body := e.must(200, "POST", "/bkt/mp?uploads", nil)
	var init struct {
		UploadID string `xml:"UploadId"`
	}
	if err := xml.Unmarshal(body, &init); err != nil || init.UploadID == "" {
		t.Fatalf("initiate: %v %s", err, body)
	}
	var etags [2]string
	for i := range 2 {
		resp, _ := e.must(200, "PUT", fmt.Sprintf("/bkt/mp?partNumber=%d&uploadId=%s", i+1, init.UploadID), []byte("small part"))
		etags[i] = resp.Header.Get("ETag")
	}
	return e, init.UploadID, etags
}

func completeXML(parts ...string) []byte {
	var b strings.Builder
	b.WriteString(`<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`)
	for i := 0; i+1 < len(parts); i += 2 {
		fmt.Fprintf(&b, "<Part><PartNumber>%s</PartNumber><ETag>%s</ETag></Part>", parts[i], parts[i+1])
	}
	b.WriteString("</CompleteMultipartUpload>")
	return []byte(b.String())
}

func TestErrorCodes(t *testing.T) {
	e, upload, etags := setupErrors(t)
	long := strings.Repeat("k", 1025)
	cases := []struct {
		name         string
		method, path string
		body         []byte
		hdr          []string
		status       int
		code         string
	}{
		{"NoSuchKey", "GET", "/bkt/missing", nil, nil, 404, "NoSuchKey"},
		{"NoSuchKey HEAD", "HEAD", "/bkt/missing", nil, nil, 404, "NoSuchKey"},
		{"NoSuchBucket", "GET", "/nobkt/obj", nil, nil, 404, "NoSuchBucket"},
		{"NoSuchBucket list", "GET", "/nobkt?list-type=2", nil, nil, 404, "NoSuchBucket"},
		{"NoSuchBucket HEAD", "HEAD", "/nobkt", nil, nil, 404, "NoSuchBucket"},
		{"BucketNotEmpty", "DELETE", "/bkt", nil, nil, 409, "BucketNotEmpty"},
		// BucketAlreadyOwnedByYou is for regions other than us-east-1:
		// TestCreateBucketTwice.
		{"InvalidBucketName upper", "PUT", "/Bad_Bucket", nil, nil, 400, "InvalidBucketName"},
		{"InvalidBucketName ip", "PUT", "/192.168.1.1", nil, nil, 400, "InvalidBucketName"},
		{"InvalidBucketName short", "PUT", "/ab", nil, nil, 400, "InvalidBucketName"},
		{"InvalidRange", "GET", "/bkt/obj", nil, []string{"Range", "bytes=10-"}, 416, "InvalidRange"},
		{"InvalidRange suffix 0", "GET", "/bkt/obj", nil, []string{"Range", "bytes=-0"}, 416, "InvalidRange"},
		{"EntityTooSmall", "POST", "/bkt/mp?uploadId=" + upload, completeXML("1", etags[0], "2", etags[1]), nil, 400, "EntityTooSmall"},
		{"InvalidPart", "POST", "/bkt/mp?uploadId=" + upload, completeXML("1", `"0000"`), nil, 400, "InvalidPart"},
		{"InvalidPart missing", "POST", "/bkt/mp?uploadId=" + upload, completeXML("3", etags[0]), nil, 400, "InvalidPart"},
		{"InvalidPartOrder", "POST", "/bkt/mp?uploadId=" + upload, completeXML("2", etags[1], "1", etags[0]), nil, 400, "InvalidPartOrder"},
		{"InvalidPartOrder duplicate apart", "POST", "/bkt/mp?uploadId=" + upload, completeXML("1", etags[0], "2", etags[1], "1", etags[0]), nil, 400, "InvalidPartOrder"},
		{"InvalidPart duplicate", "POST", "/bkt/mp?uploadId=" + upload, completeXML("1", etags[0], "1", `"0000"`), nil, 400, "InvalidPart"},
		{"MalformedXML complete", "POST", "/bkt/mp?uploadId=" + upload, []byte("<CompleteMultipartUpload><Part>"), nil, 400, "MalformedXML"},
		{"MalformedXML complete empty", "POST", "/bkt/mp?uploadId=" + upload, completeXML(), nil, 400, "MalformedXML"},
		{"NoSuchUpload part", "PUT", "/bkt/mp?partNumber=1&uploadId=bogus", []byte("x"), nil, 404, "NoSuchUpload"},
		{"NoSuchUpload complete", "POST", "/bkt/mp?uploadId=bogus", completeXML("1", etags[0]), nil, 404, "NoSuchUpload"},
		{"NoSuchUpload abort", "DELETE", "/bkt/mp?uploadId=bogus", nil, nil, 404, "NoSuchUpload"},
		{"NoSuchUpload list parts", "GET", "/bkt/mp?uploadId=bogus", nil, nil, 404, "NoSuchUpload"},
		{"InvalidArgument part number", "PUT", "/bkt/mp?partNumber=10001&uploadId=" + upload, []byte("x"), nil, 400, "InvalidArgument"},
		{"MalformedXML delete", "POST", "/bkt?delete", []byte("<Delete><Object><Key>a</Key>"), nil, 400, "MalformedXML"},
		{"MalformedXML delete root", "POST", "/bkt?delete", []byte("<Other><Object><Key>a</Key></Object></Other>"), nil, 400, "MalformedXML"},
		{"MalformedXML delete none", "POST", "/bkt?delete", []byte("<Delete></Delete>"), nil, 400, "MalformedXML"},
		{"MalformedXML delete 1001", "POST", "/bkt?delete", []byte("<Delete>" + strings.Repeat("<Object><Key>a</Key></Object>", 1001) + "</Delete>"), nil, 400, "MalformedXML"},
		{"MalformedXML create bucket", "PUT", "/newbkt", []byte("<CreateBucketConfiguration>"), nil, 400, "MalformedXML"},
		{"BadDigest delete", "POST", "/bkt?delete", []byte("<Delete><Object><Key>a</Key></Object></Delete>"), []string{"Content-MD5", b64MD5([]byte("other"))}, 400, "BadDigest"},
		{"PreconditionFailed If-Match", "GET", "/bkt/obj", nil, []string{"If-Match", `"nope"`}, 412, "PreconditionFailed"},
		{"PreconditionFailed If-Unmodified-Since", "GET", "/bkt/obj", nil, []string{"If-Unmodified-Since", "Mon, 02 Jan 2006 15:04:05 GMT"}, 412, "PreconditionFailed"},
		{"PreconditionFailed HEAD", "HEAD", "/bkt/obj", nil, []string{"If-Match", `"nope"`}, 412, "PreconditionFailed"},
		{"PreconditionFailed copy", "PUT", "/bkt/copy", nil, []string{"X-Amz-Copy-Source", "/bkt/obj", "X-Amz-Copy-Source-If-Match", `"nope"`}, 412, "PreconditionFailed"},
		{"BadDigest Content-MD5", "PUT", "/bkt/new", []byte("data"), []string{"Content-MD5", b64MD5([]byte("other"))}, 400, "BadDigest"},
		{"BadDigest crc32", "PUT", "/bkt/new", []byte("data"), []string{"X-Amz-Checksum-Crc32", "AAAAAA=="}, 400, "BadDigest"},
		{"BadDigest crc64nvme", "PUT", "/bkt/new", []byte("data"), []string{"X-Amz-Checksum-Crc64nvme", "AAAAAAAAAAA="}, 400, "BadDigest"},
		{"BadDigest sha256 part", "PUT", "/bkt/mp?partNumber=3&uploadId=" + upload, []byte("data"), []string{"X-Amz-Checksum-Sha256", base64.StdEncoding.EncodeToString(make([]byte, 32))}, 400, "BadDigest"},
		{"InvalidRequest two checksums", "PUT", "/bkt/new", []byte("data"), []string{"X-Amz-Checksum-Crc32", "AAAAAA==", "X-Amz-Checksum-Crc32c", "AAAAAA=="}, 400, "InvalidRequest"},
		{"InvalidRequest bad checksum value", "PUT", "/bkt/new", []byte("data"), []string{"X-Amz-Checksum-Crc32", "!!"}, 400, "InvalidRequest"},
		{"InvalidDigest", "PUT", "/bkt/new", []byte("data"), []string{"Content-MD5", "not base64"}, 400, "InvalidDigest"},
		{"InvalidDigest length", "PUT", "/bkt/new", []byte("data"), []string{"Content-MD5", "AAAA"}, 400, "InvalidDigest"},
		{"KeyTooLongError", "PUT", "/bkt/" + long, []byte("data"), nil, 400, "KeyTooLongError"},
		{"KeyTooLongError GET", "GET", "/bkt/" + long, nil, nil, 400, "KeyTooLongError"},
		{"KeyTooLongError copy source", "PUT", "/bkt/copy", nil, []string{"X-Amz-Copy-Source", "/bkt/" + long}, 400, "KeyTooLongError"},
		{"NotImplemented acl", "GET", "/bkt?acl", nil, nil, 501, "NotImplemented"},
		{"NotImplemented policy", "PUT", "/bkt?policy", []byte("{}"), nil, 501, "NotImplemented"},
		{"NotImplemented versioning", "PUT", "/bkt?versioning", []byte("<VersioningConfiguration/>"), nil, 501, "NotImplemented"},
		{"NotImplemented bucket tagging", "GET", "/bkt?tagging", nil, nil, 501, "NotImplemented"},
		{"NotImplemented versions", "GET", "/bkt?versions", nil, nil, 501, "NotImplemented"},
		{"NotImplemented post object", "POST", "/bkt", []byte("form"), nil, 501, "NotImplemented"},
		{"NotImplemented conditional put", "PUT", "/bkt/new", []byte("data"), []string{"If-None-Match", "*"}, 501, "NotImplemented"},
		{"MethodNotAllowed object", "PATCH", "/bkt/obj", nil, nil, 405, "MethodNotAllowed"},
		{"MethodNotAllowed service", "DELETE", "/", nil, nil, 405, "MethodNotAllowed"},
		{"MethodNotAllowed post object", "POST", "/bkt/obj", nil, nil, 405, "MethodNotAllowed"},
		{"InvalidArgument max-keys", "GET", "/bkt?list-type=2&max-keys=-1", nil, nil, 400, "InvalidArgument"},
		{"InvalidArgument encoding-type", "GET", "/bkt?encoding-type=base64", nil, nil, 400, "InvalidArgument"},
		{"InvalidArgument token", "GET", "/bkt?list-type=2&continuation-token=%21%21", nil, nil, 400, "InvalidArgument"},
		{"InvalidArgument directive", "PUT", "/bkt/copy", nil, []string{"X-Amz-Copy-Source", "/bkt/obj", "X-Amz-Metadata-Directive", "MOVE"}, 400, "InvalidArgument"},
		{"InvalidArgument copy source", "PUT", "/bkt/copy", nil, []string{"X-Amz-Copy-Source", "bkt"}, 400, "InvalidArgument"},
		{"InvalidRequest copy onto itself", "PUT", "/bkt/obj", nil, []string{"X-Amz-Copy-Source", "/bkt/obj"}, 400, "InvalidRequest"},
		{"NoSuchVersion copy", "PUT", "/bkt/copy", nil, []string{"X-Amz-Copy-Source", "/bkt/obj?versionId=abc"}, 404, "NoSuchVersion"},
		{"NoSuchVersion get", "GET", "/bkt/obj?versionId=abc", nil, nil, 404, "NoSuchVersion"},
		{"InvalidRange copy part", "PUT", "/bkt/mp?partNumber=3&uploadId=" + upload, nil, []string{"X-Amz-Copy-Source", "bkt/obj", "X-Amz-Copy-Source-Range", "bytes=5-10"}, 416, "InvalidRange"},
		{"InvalidArgument copy part range", "PUT", "/bkt/mp?partNumber=3&uploadId=" + upload, nil, []string{"X-Amz-Copy-Source", "bkt/obj", "X-Amz-Copy-Source-Range", "bytes=5-"}, 400, "InvalidArgument"},
		{"InvalidPartNumber", "GET", "/bkt/obj?partNumber=2", nil, nil, 416, "InvalidPartNumber"},
		{"MetadataTooLarge", "PUT", "/bkt/new", []byte("data"), []string{"X-Amz-Meta-Big", strings.Repeat("v", 2100)}, 400, "MetadataTooLarge"},
		{"XAmzContentSHA256Mismatch", "PUT", "/bkt/new", []byte("data"), []string{"X-Amz-Content-Sha256", sha256Hex([]byte("other"))}, 400, "XAmzContentSHA256Mismatch"},
		{"XAmzContentSHA256Mismatch delete", "POST", "/bkt?delete", []byte("<Delete><Object><Key>a</Key></Object></Delete>"), []string{"X-Amz-Content-Sha256", sha256Hex([]byte("other"))}, 400, "XAmzContentSHA256Mismatch"},
		{"InvalidArgument content-sha256", "PUT", "/bkt/new", []byte("data"), []string{"X-Amz-Content-Sha256", "nonsense"}, 400, "InvalidArgument"},
		{"NotImplemented sigv4a", "PUT", "/bkt/new", []byte("data"), []string{"X-Amz-Content-Sha256", streamingECDSAPayload}, 501, "NotImplemented"},
		{"InvalidRequest missing trailer", "PUT", "/bkt/new", []byte("0\r\n\r\n"), []string{"X-Amz-Content-Sha256", streamingUnsignedTrailer, "X-Amz-Trailer", "x-amz-checksum-crc32"}, 400, "InvalidRequest"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, body := e.do(e.signedReq(c.method, c.path, c.body, c.hdr...))
			wantError(t, resp, body, c.status, c.code)
		})
	}
	// Nothing failed got stored.
	for _, k := range []string{"new", "copy", long} {
		if _, err := e.be.GetObject(context.Background(), "bkt", k); !errors.Is(err, ErrNoSuchKey) {
			t.Errorf("%q stored by a failed request: %v", k, err)
		}
	}
	if _, err := e.be.HeadBucket(context.Background(), "newbkt"); !errors.Is(err, ErrNoSuchBucket) {
		t.Errorf("newbkt created by a malformed request")
	}
}

func TestAuthErrors(t *testing.T) {
	e := newTestEnv(t, false)
	e.must(200, "PUT", "/bkt", nil)
	e.must(200, "PUT", "/bkt/obj", []byte("0123456789"))

	check := func(name string, req *http.Request, status int, code string) {
		t.Helper()
		resp, body := e.do(req)
		if resp.StatusCode != status || s3Code(t, body) != code {
			t.Errorf("%s: %d %s, want %d %s", name, resp.StatusCode, body, status, code)
		}
	}
	check("SignatureDoesNotMatch", e.signedReqAs(testAK, "wrong secret", "GET", "/bkt/obj", nil), 403, "SignatureDoesNotMatch")
	check("InvalidAccessKeyId", e.signedReqAs("AKIDUNKNOWN", testSK, "GET", "/bkt/obj", nil), 403, "InvalidAccessKeyId")

	anon, _ := http.NewRequest("GET", e.ts.URL+"/bkt/obj", nil)
	check("AccessDenied anonymous", anon, 403, "AccessDenied")

	v2, _ := http.NewRequest("GET", e.ts.URL+"/bkt/obj", nil)
	v2.Header.Set("Authorization", "AWS "+testAK+":c2lnbmF0dXJl")
	check("SigV2 refused", v2, 400, "InvalidRequest")

	wrongRegion, _ := http.NewRequest("GET", e.ts.URL+"/bkt/obj", nil)
	wrongRegion.Header.Set("X-Amz-Content-Sha256", emptySHA256)
	wrongRegion = signer.SignV4(*wrongRegion, testAK, testSK, "", "eu-west-1")
	check("AuthorizationHeaderMalformed region", wrongRegion, 400, "AuthorizationHeaderMalformed")

	malformed := e.signedReq("GET", "/bkt/obj", nil)
	malformed.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+testAK+"/20130524/us-east-1/s3/aws4_request")
	check("AuthorizationHeaderMalformed parts", malformed, 400, "AuthorizationHeaderMalformed")

	noHash, _ := http.NewRequest("GET", e.ts.URL+"/bkt/obj", nil)
	noHash = signer.SignV4(*noHash, testAK, testSK, "", testRegion)
	check("MissingSecurityHeader", noHash, 400, "MissingSecurityHeader")

	unsigned := e.signedReq("GET", "/bkt/obj", nil)
	unsigned.Header.Set("X-Amz-Meta-Late", "added after signing")
	check("unsigned x-amz header", unsigned, 403, "AccessDenied")

	tampered := e.signedReq("GET", "/bkt/obj", nil)
	tampered.URL.Path = "/bkt/obj2"
	check("tampered path", tampered, 403, "SignatureDoesNotMatch")

	e.setOffset(time.Hour)
	check("RequestTimeTooSkewed", e.signedReq("GET", "/bkt/obj", nil), 403, "RequestTimeTooSkewed")
	e.setOffset(0)

	// Presigned: expired, too long, and fine.
	pre := func(expires time.Duration) *http.Request {
		req, _ := http.NewRequest("GET", e.ts.URL+"/bkt/obj", nil)
		return signer.PreSignV4(*req, testAK, testSK, "", testRegion, int64(expires/time.Second))
	}
	check("presigned too long", pre(8*24*time.Hour), 400, "AuthorizationQueryParametersError")
	e.setOffset(2 * time.Hour)
	check("presigned expired", pre(time.Hour), 403, "AccessDenied")
	e.setOffset(0)
	resp, body := e.do(pre(time.Hour))
	if resp.StatusCode != 200 || string(body) != "0123456789" {
		t.Fatalf("presigned GET: %d %q", resp.StatusCode, body)
	}
	both := pre(time.Hour)
	both.Header.Set("Authorization", e.signedReq("GET", "/bkt/obj", nil).Header.Get("Authorization"))
	check("two auth mechanisms", both, 400, "InvalidArgument")
}

// TestIncompleteBody sends fewer bytes than Content-Length on a raw
// connection, then half-closes it.
func TestIncompleteBody(t *testing.T) {
	e := newTestEnv(t, false)
	e.must(200, "PUT", "/bkt", nil)
	for _, c := range []struct {
		name string
		hdr  []string
		body string
	}{
		{"plain", []string{"X-Amz-Content-Sha256", unsignedPayload}, "short"},
		{"aws-chunked", []string{"X-Amz-Content-Sha256", streamingUnsignedTrailer, "X-Amz-Decoded-Content-Length", "100", "Content-Encoding", "aws-chunked"}, "64\r\nshort"},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := e.signedReq("PUT", "/bkt/short", []byte(strings.Repeat("x", 100)), c.hdr...)
			conn, err := net.Dial("tcp", e.host())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			var head bytes.Buffer
			fmt.Fprintf(&head, "PUT /bkt/short HTTP/1.1\r\nHost: %s\r\nContent-Length: 100\r\n", req.Host)
			for k, vs := range req.Header {
				for _, v := range vs {
					fmt.Fprintf(&head, "%s: %s\r\n", k, v)
				}
			}
			head.WriteString("\r\n" + c.body)
			if _, err := conn.Write(head.Bytes()); err != nil {
				t.Fatal(err)
			}
			conn.(*net.TCPConn).CloseWrite()
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			wantError(t, resp, body, 400, "IncompleteBody")
			if _, err := e.be.GetObject(context.Background(), "bkt", "short"); !errors.Is(err, ErrNoSuchKey) {
				t.Fatalf("incomplete object stored: %v", err)
			}
		})
	}
}

// closeHasher adapts a hash.Hash to minio-go's md5simd.Hasher.
type closeHasher struct{ hash.Hash }

func (closeHasher) Close() {}

// TestSignedChunkTampering sends a minio-go-signed aws-chunked body with one
// byte changed on the wire: the chunk signature fails and nothing is stored.
func TestSignedChunkTampering(t *testing.T) {
	e := newTestEnv(t, false)
	e.must(200, "PUT", "/bkt", nil)
	data := randBytes(200<<10, 3)
	req, _ := http.NewRequest("PUT", e.ts.URL+"/bkt/chunked", bytes.NewReader(data))
	req = signer.StreamingSignV4(req, testAK, testSK, "", testRegion, int64(len(data)), time.Now().UTC(), closeHasher{sha256.New()})
	wire, err := io.ReadAll(req.Body)
	if err != nil {
		t.Fatal(err)
	}
	for _, tamper := range []bool{false, true} {
		body := bytes.Clone(wire)
		if tamper {
			body[150<<10] ^= 1
		}
		r2, _ := http.NewRequest("PUT", e.ts.URL+"/bkt/chunked", bytes.NewReader(body))
		r2.Header = req.Header.Clone()
		r2.ContentLength = int64(len(body))
		resp, rb := e.do(r2)
		if !tamper {
			if resp.StatusCode != 200 {
				t.Fatalf("untampered: %d %s", resp.StatusCode, rb)
			}
			e.must(204, "DELETE", "/bkt/chunked", nil)
			continue
		}
		wantError(t, resp, rb, 403, "SignatureDoesNotMatch")
		if _, err := e.be.GetObject(context.Background(), "bkt", "chunked"); !errors.Is(err, ErrNoSuchKey) {
			t.Fatalf("tampered object stored: %v", err)
		}
	}
}
