package cluster

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/hashicorp/serf/serf"

	"cairn/internal/nodeauth"
)

var otherSecret = []byte("another cluster secret, 32 bytes")

func TestWrongSecretCannotJoin(t *testing.T) {
	a := start(t, testConfig(t, "a", RoleMeta))
	cfgB := testConfig(t, "b", RoleStorage)
	cfgB.Join = []string{a.GossipAddr()}
	b := start(t, cfgB)
	eventually(t, func() error { return hasStatus(a, "b", StatusAlive) })

	cfgX := testConfig(t, "x", RoleStorage)
	cfgX.Secret = otherSecret
	x := start(t, cfgX)
	if n, err := x.Join([]string{a.GossipAddr(), b.GossipAddr()}); !errors.Is(err, ErrWrongSecret) {
		t.Fatalf("Join with the wrong secret = %d, %v; want ErrWrongSecret", n, err)
	} else {
		t.Log(err)
	}

	cfgY := testConfig(t, "y", RoleStorage)
	cfgY.Secret = otherSecret
	cfgY.Join = []string{a.GossipAddr()}
	cfgY.JoinTimeout = time.Minute // fails at once all the same
	if y, err := Start(cfgY); err == nil {
		y.Close()
		t.Fatal("started with the wrong secret")
	} else if !errors.Is(err, ErrWrongSecret) {
		t.Fatalf("Start with the wrong secret: %v, want ErrWrongSecret", err)
	}

	// Nothing leaked either way. (The join errors above are the real test;
	// this only makes sure nothing got in through a side door meanwhile.)
	consistently(t, time.Second, func() error {
		for _, n := range []*Cluster{a, b} {
			for _, sm := range n.serf.Members() {
				if sm.Name == "x" || sm.Name == "y" {
					return fmt.Errorf("%s knows %s", n.Self().ID, sm.Name)
				}
			}
		}
		if got := len(x.serf.Members()); got != 1 {
			return fmt.Errorf("x knows %d members", got)
		}
		return nil
	})
}

// TestGossipKeyring checks that the memberlist under the running serf has
// a keyring holding the key derived from the secret, and refuses
// unencrypted traffic.
func TestGossipKeyring(t *testing.T) {
	cfg := testConfig(t, "a", RoleMeta)
	var sc *serf.Config
	cfg.testHook = func(c *serf.Config) { sc = c }
	c := start(t, cfg)

	key, err := nodeauth.DeriveKey(testSecret, "gossip")
	if err != nil {
		t.Fatal(err)
	}
	ml := sc.MemberlistConfig
	if ml.Keyring == nil || !bytes.Equal(ml.Keyring.GetPrimaryKey(), key) || len(key) != 32 {
		t.Fatalf("keyring %v does not hold the derived 32-byte key", ml.Keyring)
	}
	if !ml.GossipVerifyIncoming || !ml.GossipVerifyOutgoing {
		t.Error("gossip verification is off")
	}
	if !c.serf.EncryptionEnabled() {
		t.Error("serf says encryption is off")
	}
}

// TestGossipOnTheWire captures what a node sends when it joins (memberlist's
// TCP push/pull of the whole member state) through a listener posing as a
// member, and checks that its name and addresses are not in it. The
// control run, with encryption removed, shows that the capture would see
// them. Compression is off in both, or it would hide them as well.
func TestGossipOnTheWire(t *testing.T) {
	const id = "wire-node-7"
	const api = "10.98.76.54:7654"
	noCompression := func(sc *serf.Config) { sc.MemberlistConfig.EnableCompression = false }

	plain := capturePushPull(t, id, api, func(sc *serf.Config) {
		noCompression(sc)
		sc.MemberlistConfig.Keyring = nil
		sc.MemberlistConfig.GossipVerifyIncoming = false
		sc.MemberlistConfig.GossipVerifyOutgoing = false
	})
	if !bytes.Contains(plain, []byte(id)) || !bytes.Contains(plain, []byte(api)) {
		t.Fatalf("control: the unencrypted capture (%d bytes) does not show the node; the test cannot see plaintext", len(plain))
	}

	sealed := capturePushPull(t, id, api, noCompression)
	const encryptMsg = 10 // memberlist's message type of an encrypted message
	if len(sealed) == 0 || sealed[0] != encryptMsg {
		t.Fatalf("capture does not start with memberlist's encrypted message type: % x", sealed[:min(len(sealed), 16)])
	}
	for _, s := range []string{id, api, "zone-" + id} {
		if bytes.Contains(sealed, []byte(s)) {
			t.Errorf("%q is readable in the gossip", s)
		}
	}
}

// capturePushPull starts a node, has it join a TCP listener, and returns
// what the node sent.
func capturePushPull(t *testing.T, id, api string, hook func(*serf.Config)) []byte {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg := testConfig(t, id, RoleStorage)
	cfg.Self.APIAddr = api
	cfg.testHook = hook
	c, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	joined := make(chan error, 1)
	go func() {
		_, err := c.Join([]string{ln.Addr().String()})
		joined <- err
	}()
	conn, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	// The node writes its state, then waits for ours: read until it stops.
	var data []byte
	buf := make([]byte, 64<<10)
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	for {
		n, err := conn.Read(buf)
		data = append(data, buf[:n]...)
		if err != nil {
			break
		}
		conn.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	}
	conn.Close()
	if err := <-joined; err == nil {
		t.Error("joined a listener that answered nothing")
	}
	return data
}
