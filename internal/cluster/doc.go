// Package cluster is Cairn's membership: nodes find each other and learn
// who is alive by gossip (hashicorp/serf on memberlist's SWIM failure
// detector), each announcing its ID, zone, weight, roles and addresses.
//
// # Use
//
//	cfg := cluster.DefaultConfig()
//	cfg.Self = cluster.Member{
//		ID: "n1", Zone: "rack1", Weight: 4,
//		Roles:   []cluster.Role{cluster.RoleStorage, cluster.RoleMeta},
//		APIAddr: "10.0.0.1:7000", RaftAddr: "10.0.0.1:7001",
//	}
//	cfg.BindAddr = "10.0.0.1:7946"
//	cfg.Join = []string{"10.0.0.2:7946", "10.0.0.3:7946"}
//	cfg.Secret, cfg.Logger = secret, logger
//	c, err := cluster.Start(cfg) // joins, retrying up to cfg.JoinTimeout
//	...
//	defer c.Close()
//	for {
//		select {
//		case <-c.Events():
//			members := c.Members() // sorted by ID, self included
//			...
//		case <-c.Done(): // gossip stopped: c.Err() says why
//		}
//	}
//	...
//	err = c.Leave(ctx) // graceful: the others see Left, not Failed
//
// # Guarantees
//
// Gossip is encrypted and authenticated with AES-256-GCM under a key
// derived from the cluster secret (nodeauth.DeriveKey(secret, "gossip")),
// and unencrypted packets are refused: a process without the secret can
// neither join the cluster nor read its gossip, and a node that tries to
// join members holding another secret gets ErrWrongSecret. Knowing the secret is the
// only admission test; the placement layout, kept in the metadata store,
// decides which storage nodes actually hold data.
//
// The member list is eventually consistent: right after a change, nodes
// may disagree for a moment (a failure is detected within seconds on a
// LAN). That is why placement never reads it directly (see DESIGN.md,
// "Membership"). Member.Status is this node's view; a member memberlist
// suspects stays Alive until it is declared Failed.
//
// Node IDs are serf node names and must be unique. A node that starts with
// the ID of a live member at another address gets ErrNameConflict from
// Start or Join, and serf's vote among the members stops it (Done, Err).
// A node that restarts at a new address is accepted as soon as the others
// have declared its previous incarnation failed.
//
// Tags are a small versioned format (member.go) limited to MaxTagBytes
// encoded; Config.Validate checks the limit. A member whose tags do not
// decode is left out of Members, with a warning.
//
// Every goroutine the Cluster starts ends before Close returns. Serf's own
// goroutines stop when Close shuts serf down, but serf offers no way to
// wait for them, so a few may outlive Close briefly.
package cluster
