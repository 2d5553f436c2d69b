package server

import (
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
		args := minioClusterArgs(nodes, i)
		want := append([]string{"server", "--address", nodes[i].api, "--console-address", nodes[i].console}, drives...)
		if !slices.Equal(args, want) {
			t.Errorf("node %d: %q, want %q", i+1, args, want)
		}
	}
	env := strings.Join(minioEnv("ak", "sk", 2), "\n")
	for _, want := range []string{"MINIO_ROOT_USER=ak", "MINIO_ROOT_PASSWORD=sk", "MINIO_STORAGE_CLASS_STANDARD=EC:2"} {
		if !strings.Contains(env, want) {
			t.Errorf("environment lacks %s", want)
		}
	}
}
