package s3gw

import (
	"fmt"
	"log"
	"net/http/httptest"
)

func ExampleNew() {
	srv, err := New(Config{
		Backend:     newMemBackend(),                // the object store
		Credentials: memCreds{"AKID": "secret key"}, // access key -> secret
		Region:      "us-east-1",
		Domains:     []string{"s3.example.test"}, // bucket.s3.example.test is virtual-host style
	})
	if err != nil {
		log.Fatal(err)
	}
	ts := httptest.NewServer(srv) // or http.ListenAndServe(":9000", srv)
	defer ts.Close()

	// Anonymous requests are refused (to a bucket that does not exist,
	// with 404 NoSuchBucket, as S3 does).
	resp, err := ts.Client().Get(ts.URL + "/")
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.Header.Get("X-Amz-Request-Id") != "")
	// Output: 403 true
}
