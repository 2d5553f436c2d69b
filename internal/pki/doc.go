// Package pki holds the cluster's identities: the cluster certificate
// authority, the certificates it issues to nodes, the mutual TLS
// configurations nodes talk to each other with, and the join tokens with
// which an untrusted storage node enrolls. It is primitives only: it serves
// nothing, and keeps no state beyond what its callers hand it.
//
// # Who holds what
//
// Tenant nodes (metadata voters and gateways) hold the cluster secret.
// From it each derives the same CA (DeriveCA): an Ed25519 key and a
// self-signed certificate built from a fixed template, so every tenant node
// has the very same CA certificate, byte for byte, with nothing to
// distribute. A tenant node can issue itself a certificate at any time
// (NewTenantIdentity), so it need keep none.
//
// A storage node, run by a contributor, never learns the secret. It makes
// its own key pair and enrolls with a join token (see Enrollment): it
// receives a certificate bound to its node ID, the storage role and the
// zone the invite named, and keeps key, certificate and CA certificate in
// one file (Identity.Save, LoadIdentity). That file is its root of trust.
//
// # Certificates
//
// A node certificate names its node ID in the subject's CommonName and its
// claims in the subject's OrganizationalUnit: "role:tenant" or
// "role:storage", and "zone:" and the zone (which a storage certificate
// must have). It carries both the server and the client extended key
// usage, since every node both calls and is called. ParsePeer reads these
// claims into a Peer; Verify checks first that the CA issued them.
//
// # Connections
//
// Every connection between nodes is TLS 1.3 with a certificate on both
// sides, chained to the cluster CA (ServerTLS, ClientTLS). Nodes are
// reached by IP address and named by node ID, not DNS name, so a client
// checks no host name: it verifies the server's chain itself and hands the
// server's Peer to a check of the caller's ("must be node n-3"), as the
// server does with the client's ("not revoked", "storage may only touch
// shards"). A handler reads who called it with PeerFrom.
//
// # Enrollment
//
// An operator asks a tenant node for an invite; the tenant node makes a
// join token (NewInvite), and the contributor starts its storage node
// with it (ParseToken). The node makes its own key pair and sends an
// EnrollRequest to one of the invite's endpoints, over plain HTTP if need
// be: the request is authenticated with the token's secret, which never
// travels again, and so is the EnrollResponse; the one secret in the
// response, the gossip key, is sealed under a key derived from the
// token's secret. The response's CA must have the fingerprint the token
// names. So whoever is on the path without the token can neither enroll
// nor pose as the cluster.
//
// A token's secret is an HMAC, under a key derived from the cluster
// secret, of the invite's ID, zone, node ID and expiry, so any tenant node
// checks a request with no shared state (CheckEnrollRequest). A token is
// as good as a password until it expires: whoever holds it can enroll one
// storage node in its zone. Using each invite once only is the caller's
// part: it records the invite IDs redeemed, and refuses node IDs already
// taken.
package pki
