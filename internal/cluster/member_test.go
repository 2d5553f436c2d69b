package cluster

import (
	"bytes"
	"io"
	"log"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/go-msgpack/v2/codec"
	"github.com/hashicorp/serf/serf"
)

func TestTagsRoundTrip(t *testing.T) {
	for _, m := range []Member{
		{ID: "n1", Zone: "rack-1", Weight: 3.25, Roles: []Role{RoleStorage, RoleMeta}, APIAddr: "10.0.0.1:7000", RaftAddr: "10.0.0.1:7001"},
		{ID: "gw", Roles: []Role{RoleGateway}, APIAddr: "[fd00::1]:7000", S3Addr: "[fd00::1]:9000", Version: "v1.2.0-3-gabc1234-dirty"},
		{ID: "x", Roles: []Role{"future"}, APIAddr: "h:1"}, // an unknown role is kept
	} {
		got, err := decodeTags(m.ID, encodeTags(m))
		if err != nil {
			t.Fatalf("%+v: %v", m, err)
		}
		if !reflect.DeepEqual(got, m) {
			t.Errorf("round trip: got %+v, want %+v", got, m)
		}
	}
}

func TestDecodeTagsErrors(t *testing.T) {
	for _, tags := range []map[string]string{
		{"role": ""}, // what serf makes of no tags
		{"api": "h:1"},
		{"v": "2", "api": "h:1"},
		{"v": "1"},
		{"v": "1", "api": "h:1", "w": "heavy"},
		{"v": "1", "api": "h:1", "w": "-1"},
		{"v": "1", "api": "h:1", "w": "NaN"},
		{"v": "1", "api": "h:1", "w": "+Inf"},
	} {
		if m, err := decodeTags("n", tags); err == nil {
			t.Errorf("%v decoded as %+v", tags, m)
		}
	}
}

// serfEncode encodes tags as serf 0.11 does (serf.encodeTags): a magic
// byte, then msgpack.
func serfEncode(t *testing.T, tags map[string]string) []byte {
	var buf bytes.Buffer
	buf.WriteByte(0xff) // serf's tagMagicByte
	if err := codec.NewEncoder(&buf, &codec.MsgpackHandle{}).Encode(tags); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestEncodedSize(t *testing.T) {
	for _, n := range []int{0, 1, 31, 32, 33, 255, 256, 511, 70000} {
		tags := map[string]string{"v": "1", strings.Repeat("k", min(n, 40)): strings.Repeat("x", n)}
		if got, want := encodedSize(tags), len(serfEncode(t, tags)); got != want {
			t.Errorf("value of %d bytes: encodedSize %d, serf encodes %d", n, got, want)
		}
	}
	many := map[string]string{}
	for i := range 20 { // past the 15 entries of a fixmap
		many[string(rune('a'+i))] = "v"
	}
	if got, want := encodedSize(many), len(serfEncode(t, many)); got != want {
		t.Errorf("20 tags: encodedSize %d, serf encodes %d", got, want)
	}
}

// TestTagLimitMatchesSerf builds a member whose tags take exactly
// MaxTagBytes and checks that Validate and serf both accept it, and that
// one byte more is refused by both.
func TestTagLimitMatchesSerf(t *testing.T) {
	cfg := testConfig(t, "n1", RoleStorage, RoleGateway, RoleMeta)
	var host string
	for n := 1; encodedSize(encodeTags(cfg.Self)) < MaxTagBytes; n++ {
		host = strings.Repeat("h", n)
		cfg.Self.S3Addr = host + ":9000"
	}
	if n := encodedSize(encodeTags(cfg.Self)); n != MaxTagBytes {
		t.Fatalf("built %d bytes of tags, want %d", n, MaxTagBytes)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("tags of exactly %d bytes: %v", MaxTagBytes, err)
	}
	serfAccepts(t, cfg, true)

	cfg.Self.S3Addr = host + "h:9000"
	err := cfg.Validate()
	if err == nil || !strings.Contains(err.Error(), "bytes encoded") {
		t.Fatalf("tags of %d bytes: Validate = %v", MaxTagBytes+1, err)
	}
	t.Log(err)
	serfAccepts(t, cfg, false)
}

func serfAccepts(t *testing.T, cfg Config, want bool) {
	t.Helper()
	sc, err := cfg.serfConfig(make([]byte, 32), nil, log.New(io.Discard, "", 0))
	if err != nil {
		t.Fatal(err)
	}
	s, err := serf.Create(sc)
	if err == nil {
		s.Shutdown()
	}
	if got := err == nil; got != want {
		t.Errorf("serf.Create accepts: %v, want %v (err %v)", got, want, err)
	}
}

func TestValidate(t *testing.T) {
	valid := func() Config { return testConfig(t, "n1", RoleStorage, RoleMeta) }
	if err := func() *Config { c := valid(); return &c }().Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	for _, tc := range []struct {
		name   string
		change func(c *Config)
		want   string // in the error
	}{
		{"no ID", func(c *Config) { c.Self.ID = "" }, "Self.ID"},
		{"long ID", func(c *Config) { c.Self.ID = strings.Repeat("n", 65) }, "Self.ID"},
		{"ID with slash", func(c *Config) { c.Self.ID = "a/b" }, "Self.ID"},
		{"zone with space", func(c *Config) { c.Self.Zone = "rack 1" }, "Self.Zone"},
		{"no roles", func(c *Config) { c.Self.Roles = nil }, "at least one role"},
		{"unknown role", func(c *Config) { c.Self.Roles = append(c.Self.Roles, "cache") }, "unknown role"},
		{"role twice", func(c *Config) { c.Self.Roles = append(c.Self.Roles, RoleMeta) }, "twice"},
		{"storage without weight", func(c *Config) { c.Self.Weight = 0 }, "weight > 0"},
		{"negative weight", func(c *Config) { c.Self.Weight = -1 }, "finite"},
		{"NaN weight", func(c *Config) { c.Self.Weight = math.NaN() }, "finite"},
		{"weight without storage", func(c *Config) { c.Self.Roles = []Role{RoleMeta} }, "only a storage node"},
		{"no API address", func(c *Config) { c.Self.APIAddr = "" }, "APIAddr"},
		{"API on 0.0.0.0", func(c *Config) { c.Self.APIAddr = "0.0.0.0:7000" }, "not reachable"},
		{"API port 0", func(c *Config) { c.Self.APIAddr = "h:0" }, "port"},
		{"meta without raft", func(c *Config) { c.Self.RaftAddr = "" }, "RaftAddr: a meta node needs one"},
		{"S3 without gateway", func(c *Config) { c.Self.S3Addr = "h:9000" }, "only a gateway node"},
		{"tags too long", func(c *Config) { c.Self.APIAddr = strings.Repeat("h", 500) + ":7000" }, "over serf's limit of 512"},
		{"bind host name", func(c *Config) { c.BindAddr = "localhost:7946" }, "BindAddr"},
		{"bind no port", func(c *Config) { c.BindAddr = "127.0.0.1" }, "BindAddr"},
		{"advertise port 0", func(c *Config) { c.Advertise = "10.0.0.1:0" }, "Advertise"},
		{"advertise unspecified", func(c *Config) { c.Advertise = "0.0.0.0:7946" }, "Advertise"},
		{"empty join", func(c *Config) { c.Join = []string{""} }, "Join[0]"},
		{"negative join timeout", func(c *Config) { c.JoinTimeout = -1 }, "JoinTimeout"},
		{"short secret", func(c *Config) { c.Secret = []byte("short") }, "at least 16 bytes"},
		{"no secret", func(c *Config) { c.Secret = nil }, "want 32 bytes (or a Secret)"},
		{"short gossip key", func(c *Config) { c.Secret, c.GossipKey = nil, make([]byte, 16) }, "GossipKey"},
		{"bad profile", func(c *Config) { c.Profile = 9 }, "Profile(9)"},
		{"no reconnect timeout", func(c *Config) { c.ReconnectTimeout = 0 }, "ReconnectTimeout"},
		{"no tombstone timeout", func(c *Config) { c.TombstoneTimeout = 0 }, "TombstoneTimeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := valid()
			tc.change(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate = %v, want an error about %q", err, tc.want)
			}
			if _, err := Start(c); err == nil {
				t.Fatal("Start accepted the config")
			}
		})
	}
}

func TestValidateListsEveryProblem(t *testing.T) {
	var c Config // zero: nothing set
	err := c.Validate()
	if err == nil {
		t.Fatal("zero config valid")
	}
	for _, want := range []string{"Self.ID", "Self.Roles", "Self.APIAddr", "BindAddr", "Secret", "ReconnectTimeout"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s:\n%v", want, err)
		}
	}
}
