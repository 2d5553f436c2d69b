// Package console is Cairn's web console: one page, shipped in the binary
// (embed), and the JSON API behind it, served by a gateway on an address of
// its own (storaged --console ADDR; the dev cluster on 127.0.0.1:9001).
//
// # What it shows
//
//   - the cluster at a glance: zones and their nodes, each with capacity,
//     used, state and audit reputation; stripe health and healing
//     progress; the metadata leader. All of it is the admin API's GET
//     status, which the console calls in-process (Config.Admin) with the
//     admin token; it never leaves the process.
//   - buckets and objects: browse by prefix, upload, download, delete, and
//     an object's CID and shard map (the admin API's GET objects/...).
//     Data goes through the gateway's s3gw.Backend, as S3 requests do.
//   - access keys: list, create, delete (the admin API's keys).
//   - charts of S3 throughput, latency and errors, and of cluster health,
//     over Config.Window: a bounded ring of samples taken every
//     Config.Interval from the node's own Prometheus registry and the
//     admin status.
//
// # Security
//
// A visitor logs in with the admin token or with an S3 access key and its
// secret; the server checks either (constant-time compares) and answers
// with a session cookie: 256 random bits, HttpOnly, SameSite=Strict,
// Secure when the console is served over TLS, Path=/. No token or secret
// ever appears in a URL. Sessions live in memory (at most MaxSessions;
// the oldest goes first), expire after SessionTTL, and end at logout or a
// restart. An S3-key session may read the cluster, browse, upload,
// download and delete objects and buckets, as the key may over S3; only an
// admin-token session manages access keys. Failed logins are rate-limited.
// Every request that changes something must carry the header
// X-Cairn-Console (the page's scripts send it; a cross-site form cannot),
// on top of SameSite=Strict.
//
// # Deadlines and memory
//
// Every request runs under a deadline: Config.Timeout for API calls,
// Config.TransferTimeout for uploads and downloads, set on the connection
// too (http.ResponseController). Uploads stream from the request body into
// Backend.PutObject and downloads from the object's reader to the
// response: no object is held in memory.
package console
