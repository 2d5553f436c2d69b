package compare

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"

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
	cairn, err := server.StartCairn(ctx, server.CairnOptions{
		Bin: rep.Cairn.Path, Data: filepath.Join(dir, "cairn"), LogPath: filepath.Join(dir, "cairn.log"),
		AccessKey: benchAccessKey, SecretKey: benchSecretKey, Args: args,
	})
	if err != nil {
		return err
	}
	s.stops = append(s.stops, func() { cairn.Stop(stopGrace) })
	minio, err := server.StartMinIO(ctx, server.MinIOOptions{
		Bin: rep.MinIO.Path, Dir: filepath.Join(dir, "minio"), LogPath: filepath.Join(dir, "minio.log"),
		AccessKey: benchAccessKey, SecretKey: benchSecretKey,
	})
	if err != nil {
		return err
	}
	s.stops = append(s.stops, func() { minio.Stop(stopGrace) })
	s.targets = []*target{
		{name: "cairn", procs: []*server.Proc{cairn}, endpoints: []string{cairn.Endpoint},
			accessKey: cairn.AccessKey, secretKey: cairn.SecretKey, profilers: profilers},
		{name: "minio", procs: []*server.Proc{minio}, endpoints: []string{minio.Endpoint},
			accessKey: minio.AccessKey, secretKey: minio.SecretKey},
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
	say("starting six storaged processes")
	cl, err := server.StartCluster(ctx, server.ClusterOptions{
		Bin: rep.Cairn.Path, Dir: filepath.Join(dir, "cairn"), LogLevel: "warn", Debug: cfg.ProfileDir != "",
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
	var gateways []string
	for _, n := range cl.Nodes {
		cairn.procs = append(cairn.procs, n.Proc)
		if n.S3 {
			cairn.endpoints = append(cairn.endpoints, n.S3Addr)
			gateways = append(gateways, n.Name)
		}
		// Every node, not just the gateways: the storage-only nodes'
		// share of a PUT's CPU (receiving and storing shards) is large.
		if n.DebugAddr != "" {
			cairn.profilers = append(cairn.profilers, profiler{name: n.Name, addr: n.DebugAddr})
		}
	}

	var ns *server.Netns
	where := "on 127.0.0.1"
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
	}
	say("starting MinIO's distributed mode, %d processes", ClusterNodes)
	mc, err := server.StartMinIOCluster(ctx, server.MinIOClusterOptions{
		Bin: rep.MinIO.Path, Dir: filepath.Join(dir, "minio"), Nodes: ClusterNodes,
		AccessKey: benchAccessKey, SecretKey: benchSecretKey, Netns: ns,
	})
	if err != nil {
		return err
	}
	s.stops = append(s.stops, func() { mc.Stop(stopGrace) })
	mcl, err := mc.Procs[0].Client()
	if err != nil {
		return err
	}
	if err := mcl.MakeBucket(ctx, benchBucket, minio.MakeBucketOptions{}); err != nil {
		return fmt.Errorf("minio: create bucket %s: %w", benchBucket, err)
	}
	s.targets = []*target{cairn, {name: "minio", procs: mc.Procs, endpoints: mc.Endpoints,
		accessKey: benchAccessKey, secretKey: benchSecretKey}}
	rep.CairnSetup = fmt.Sprintf("six storaged processes at %s on loopback, 3 zones of 2, all --storage, "+
		"one in each zone --meta --s3 (%s); 4+2; the load spread over the %d gateways",
		orDash(rep.Cairn.Version), strings.Join(gateways, ", "), len(gateways))
	rep.MinIOSetup = fmt.Sprintf("%s@%s, distributed: %d processes with one drive each (one erasure set, EC:2, so 4+2) %s; "+
		"the load spread over the %d endpoints", MinIOModule, rep.MinIO.Version, ClusterNodes, where, ClusterNodes)
	return nil
}
