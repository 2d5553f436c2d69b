package compare

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/sse"

	"cairn/bench/machine"
	"cairn/bench/server"
	"cairn/internal/testnet"
)

// ClusterNodes is the number of processes of each side in cluster mode.
const ClusterNodes = 6

// The two modes of a comparison, Report.Mode.
const (
	ModeDev     = "dev"
	ModeCluster = "cluster"
)

// servers is what a comparison started: the two targets, Cairn first,
// and what stops them and removes what they need, last started first.
type servers struct {
	targets []*target
	stops   []func()
}

// stop stops everything, last started first.
func (s *servers) stop() {
	for i := len(s.stops) - 1; i >= 0; i-- {
		s.stops[i]()
	}
}

// startDev starts `storaged --dev` and a single MinIO process with six
// drives, and describes them in rep.
func startDev(ctx context.Context, cfg Config, rep *Report, dir string, s *servers) error {
	var args []string
	var profilers []profiler
	if cfg.ProfileDir != "" {
		port, err := testnet.Port("127.0.0.1")
		if err != nil {
			return err
		}
		addr := net.JoinHostPort("127.0.0.1", port)
		args = append(args, "--debug-addr", addr)
		profilers = append(profilers, profiler{name: "dev", addr: addr})
	}
	var tl *server.TLS
	var kmsKey string
	if cfg.Secure {
		var err error
		if tl, err = server.NewTLS(filepath.Join(dir, "tls"), net.IPv4(127, 0, 0, 1)); err != nil {
			return err
		}
		kmsKey = server.NewKMSSecretKey(kmsKeyName)
	}
	cairn, err := server.StartCairn(ctx, server.CairnOptions{
		Bin: rep.Cairn.Path, Data: filepath.Join(dir, "cairn"), LogPath: filepath.Join(dir, "cairn.log"),
		AccessKey: benchAccessKey, SecretKey: benchSecretKey, Args: args, TLS: tl,
	})
	if err != nil {
		return err
	}
	s.stops = append(s.stops, func() { cairn.Stop(stopGrace) })
	minio, err := server.StartMinIO(ctx, server.MinIOOptions{
		Bin: rep.MinIO.Path, Dir: filepath.Join(dir, "minio"), LogPath: filepath.Join(dir, "minio.log"),
		AccessKey: benchAccessKey, SecretKey: benchSecretKey, TLS: tl, KMSSecretKey: kmsKey,
	})
	if err != nil {
		return err
	}
	s.stops = append(s.stops, func() { minio.Stop(stopGrace) })
	mt := &target{name: "minio", procs: []*server.Proc{minio}, endpoints: []string{minio.URL()},
		accessKey: minio.AccessKey, secretKey: minio.SecretKey, rootCAs: minio.RootCAs}
	if cfg.Secure {
		// The bucket's default encryption must be in place before the
		// first object, so it is made here rather than by the load
		// (which would also remove a bucket it made after each run).
		if mt.sse, err = minioEncryptedBucket(ctx, minio); err != nil {
			return err
		}
	}
	s.targets = []*target{
		{name: "cairn", procs: []*server.Proc{cairn}, endpoints: []string{cairn.URL()},
			accessKey: cairn.AccessKey, secretKey: cairn.SecretKey, profilers: profilers, rootCAs: cairn.RootCAs},
		mt,
	}
	rep.CairnSetup = fmt.Sprintf("storaged --dev at %s (6 storage nodes in one process, 4+2)", orDash(rep.Cairn.Version))
	rep.MinIOSetup = fmt.Sprintf("%s@%s, one process, 6 drives, EC:2", MinIOModule, rep.MinIO.Version)
	return nil
}

// startClusters starts six storaged processes on loopback and MinIO's
// distributed mode on six processes, each with the bench bucket, and
// describes them in rep. Where MinIO refuses loopback it runs in a network
// namespace of its own, and the TCP rate into it joins rep's kernels.
func startClusters(ctx context.Context, cfg Config, rep *Report, dir string, s *servers, say func(string, ...any)) error {
	// MinIO's namespace comes first: the secure variant's certificate
	// names its address.
	var ns *server.Netns
	var err error
	where := "on 127.0.0.1"
	ips := []net.IP{net.IPv4(127, 0, 0, 1)}
	if server.MinIORefusesLoopback() {
		say("MinIO refuses loopback in a container: making a network namespace for it")
		if ns, err = server.NewNetns(ctx); err != nil {
			return fmt.Errorf("MinIO's distributed mode refuses loopback here (a container), and %w", err)
		}
		s.stops = append(s.stops, func() { ns.Close() })
		l, err := ns.Listen("tcp", net.JoinHostPort(ns.IP, "0"))
		if err != nil {
			return err
		}
		rep.Machine.VethMiBps, err = machine.TCPStream(l, time.Second)
		l.Close()
		if err != nil {
			return fmt.Errorf("TCP into the namespace: %w", err)
		}
		where = fmt.Sprintf("in a network namespace of its own (%s, ports 9001-%d, reached through a veth pair: "+
			"in a container MinIO refuses endpoints on loopback)", ns.IP, 9000+ClusterNodes)
		ips = append(ips, net.ParseIP(ns.IP))
	}
	var tl *server.TLS
	var kmsKey string
	if cfg.Secure {
		if tl, err = server.NewTLS(filepath.Join(dir, "tls"), ips...); err != nil {
			return err
		}
		kmsKey = server.NewKMSSecretKey(kmsKeyName)
	}

	say("starting six storaged processes")
	cl, err := server.StartCluster(ctx, server.ClusterOptions{
		Bin: rep.Cairn.Path, Dir: filepath.Join(dir, "cairn"), LogLevel: "warn", Debug: cfg.ProfileDir != "", TLS: tl,
	})
	if err != nil {
		return err
	}
	s.stops = append(s.stops, func() { cl.Stop(stopGrace) })
	adm, err := cl.Admin(cl.Nodes[0])
	if err != nil {
		return err
	}
	if _, err := adm.CreateBucket(ctx, benchBucket); err != nil {
		return fmt.Errorf("cairn: create bucket %s: %w", benchBucket, err)
	}
	// Until every gateway places under the layout of all six nodes, a
	// PUT may place on fewer, which would flatter or hurt Cairn.
	if err := cl.WaitPlacing(ctx, benchBucket); err != nil {
		return err
	}
	cairn := &target{name: "cairn", accessKey: cl.AccessKey, secretKey: cl.SecretKey}
	if tl != nil {
		cairn.rootCAs = tl.Roots
	}
	var gateways []string
	for _, n := range cl.Nodes {
		cairn.procs = append(cairn.procs, n.Proc)
		if n.S3 {
			cairn.endpoints = append(cairn.endpoints, n.Proc.URL())
			gateways = append(gateways, n.Name)
		}
		// Every node, not just the gateways: the storage-only nodes'
		// share of a PUT's CPU (receiving and storing shards) is large.
		if n.DebugAddr != "" {
			cairn.profilers = append(cairn.profilers, profiler{name: n.Name, addr: n.DebugAddr})
		}
	}

	say("starting MinIO's distributed mode, %d processes", ClusterNodes)
	mc, err := server.StartMinIOCluster(ctx, server.MinIOClusterOptions{
		Bin: rep.MinIO.Path, Dir: filepath.Join(dir, "minio"), Nodes: ClusterNodes,
		AccessKey: benchAccessKey, SecretKey: benchSecretKey, Netns: ns, TLS: tl, KMSSecretKey: kmsKey,
	})
	if err != nil {
		return err
	}
	s.stops = append(s.stops, func() { mc.Stop(stopGrace) })
	mt := &target{name: "minio", procs: mc.Procs, accessKey: benchAccessKey, secretKey: benchSecretKey}
	for _, p := range mc.Procs {
		mt.endpoints = append(mt.endpoints, p.URL())
	}
	if cfg.Secure {
		mt.rootCAs = tl.Roots
		if mt.sse, err = minioEncryptedBucket(ctx, mc.Procs[0]); err != nil {
			return err
		}
	} else {
		mcl, err := mc.Procs[0].Client()
		if err != nil {
			return err
		}
		if err := mcl.MakeBucket(ctx, benchBucket, minio.MakeBucketOptions{}); err != nil {
			return fmt.Errorf("minio: create bucket %s: %w", benchBucket, err)
		}
	}
	s.targets = []*target{cairn, mt}
	rep.CairnSetup = fmt.Sprintf("six storaged processes at %s on loopback, 3 zones of 2, all --storage, "+
		"one in each zone --meta --s3 (%s); 4+2; the load spread over the %d gateways",
		orDash(rep.Cairn.Version), strings.Join(gateways, ", "), len(gateways))
	rep.MinIOSetup = fmt.Sprintf("%s@%s, distributed: %d processes with one drive each (one erasure set, EC:2, so 4+2) %s; "+
		"the load spread over the %d endpoints", MinIOModule, rep.MinIO.Version, ClusterNodes, where, ClusterNodes)
	return nil
}

// kmsKeyName names MinIO's static KMS key in the secure variant.
const kmsKeyName = "cairn-bench"

// minioEncryptedBucket makes the bench bucket on MinIO's p with SSE-S3 as
// its default encryption, and returns the client that made it, for
// checkSSE.
func minioEncryptedBucket(ctx context.Context, p *server.Proc) (*minio.Client, error) {
	c, err := p.Client()
	if err != nil {
		return nil, err
	}
	if err := c.MakeBucket(ctx, benchBucket, minio.MakeBucketOptions{}); err != nil {
		return nil, fmt.Errorf("minio: create bucket %s: %w", benchBucket, err)
	}
	if err := c.SetBucketEncryption(ctx, benchBucket, sse.NewConfigurationSSES3()); err != nil {
		return nil, fmt.Errorf("minio: default encryption SSE-S3 on bucket %s (is MINIO_KMS_SECRET_KEY taken?): %w", benchBucket, err)
	}
	return c, nil
}

// checkSSE returns an error unless the first object under prefix in the
// bench bucket is encrypted at rest with SSE-S3: its StatObject reports
// x-amz-server-side-encryption AES256. A run that wrote nothing there is
// an error too: nothing was checked.
func checkSSE(ctx context.Context, c *minio.Client, prefix string) error {
	lctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends the listing after its first object
	o, ok := <-c.ListObjects(lctx, benchBucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true, MaxKeys: 1})
	if ok && o.Err != nil {
		return fmt.Errorf("minio: SSE-S3 check: list %s: %w", prefix, o.Err)
	}
	if !ok || o.Key == "" {
		return fmt.Errorf("minio: SSE-S3 check: the run wrote no object under %s", prefix)
	}
	key := o.Key
	st, err := c.StatObject(ctx, benchBucket, key, minio.StatObjectOptions{})
	if err != nil {
		return fmt.Errorf("minio: SSE-S3 check: stat %s: %w", key, err)
	}
	if got := st.Metadata.Get("X-Amz-Server-Side-Encryption"); got != "AES256" {
		return fmt.Errorf("minio: object %s is not encrypted at rest with SSE-S3: x-amz-server-side-encryption %q, want \"AES256\" "+
			"(the secure variant compares against MinIO encrypting what it stores)", key, got)
	}
	return nil
}

// securityNote is Report.Security: what each side runs in the secure
// variant, in the cluster mode or the dev mode.
func securityNote(cluster bool) string {
	const https = "both serve S3 over HTTPS (a certificate of a throwaway CA, ECDSA P-256)"
	if cluster {
		return https + ", run TLS between their nodes and encrypt at rest; " +
			"Cairn: mutual TLS 1.3 between its nodes and AES-256-GCM sealing of every chunk (both always on); " +
			"MinIO: TLS between its nodes (--certs-dir, https:// endpoints) and SSE-S3 under a static KMS key " +
			"(MINIO_KMS_SECRET_KEY) as the bench bucket's default encryption, checked on an object of every run"
	}
	return https + " and encrypt at rest; neither has traffic between nodes (Cairn's six share its process, MinIO is one); " +
		"Cairn: AES-256-GCM sealing of every chunk (always on); " +
		"MinIO: SSE-S3 under a static KMS key (MINIO_KMS_SECRET_KEY) as the bench bucket's default encryption, " +
		"checked on an object of every run"
}
