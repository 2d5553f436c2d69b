package server

import (
	"encoding/base64"
	"slices"
	"strings"
	"testing"
)

func TestMinIOClusterArgs(t *testing.T) {
	nodes := []minioNode{
		{api: "10.0.0.2:9001", console: "10.0.0.2:9101", drive: "/m/n1/d"},
		{api: "10.0.0.2:9002", console: "10.0.0.2:9102", drive: "/m/n2/d"},
		{api: "10.0.0.2:9003", console: "10.0.0.2:9103", drive: "/m/n3/d"},
	}
	drives := []string{"http://10.0.0.2:9001/m/n1/d", "http://10.0.0.2:9002/m/n2/d", "http://10.0.0.2:9003/m/n3/d"}
	for i := range nodes {
		args := minioClusterArgs(nodes, i, "")
		want := append([]string{"server", "--address", nodes[i].api, "--console-address", nodes[i].console}, drives...)
		if !slices.Equal(args, want) {
			t.Errorf("node %d: %q, want %q", i+1, args, want)
		}
	}
	env := strings.Join(minioEnv("ak", "sk", 2, ""), "\n")
	for _, want := range []string{"MINIO_ROOT_USER=ak", "MINIO_ROOT_PASSWORD=sk", "MINIO_STORAGE_CLASS_STANDARD=EC:2"} {
		if !strings.Contains(env, want) {
			t.Errorf("environment lacks %s", want)
		}
	}
	if strings.Contains(env, "MINIO_KMS") {
		t.Errorf("a KMS without a key: %s", env)
	}
}

// TestMinIOSecureArgs: with a certs dir every node gets --certs-dir and
// https:// drive URLs (TLS between the nodes too), and a KMS key reaches
// the environment as MINIO_KMS_SECRET_KEY, in the form MinIO parses.
func TestMinIOSecureArgs(t *testing.T) {
	nodes := []minioNode{
		{api: "10.0.0.2:9001", console: "10.0.0.2:9101", drive: "/m/n1/d"},
		{api: "10.0.0.2:9002", console: "10.0.0.2:9102", drive: "/m/n2/d"},
	}
	drives := []string{"https://10.0.0.2:9001/m/n1/d", "https://10.0.0.2:9002/m/n2/d"}
	for i := range nodes {
		args := minioClusterArgs(nodes, i, "/m/certs")
		want := append([]string{"server", "--address", nodes[i].api, "--console-address", nodes[i].console, "--certs-dir", "/m/certs"}, drives...)
		if !slices.Equal(args, want) {
			t.Errorf("node %d: %q, want %q", i+1, args, want)
		}
	}
	key := NewKMSSecretKey("bench-key")
	name, b64, ok := strings.Cut(key, ":")
	raw, err := base64.StdEncoding.DecodeString(b64)
	if !ok || name != "bench-key" || err != nil || len(raw) != 32 {
		t.Fatalf("key %q: name %q, %d bytes, %v", key, name, len(raw), err)
	}
	if other := NewKMSSecretKey("bench-key"); other == key {
		t.Error("two keys alike")
	}
	var kms []string
	for _, kv := range minioEnv("ak", "sk", 2, key) {
		if strings.HasPrefix(kv, "MINIO_KMS") {
			kms = append(kms, kv)
		}
	}
	if want := []string{"MINIO_KMS_SECRET_KEY=" + key}; !slices.Equal(kms, want) {
		t.Errorf("KMS environment %q, want %q", kms, want)
	}
}
