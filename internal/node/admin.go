package node

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"time"

	"github.com/ipfs/go-cid"

	"cairn/internal/admin"
	"cairn/internal/admin/adminapi"
	"cairn/internal/cluster"
	"cairn/internal/durable"
	"cairn/internal/heal"
	"cairn/internal/layout"
	"cairn/internal/meta"
	"cairn/internal/metarpc"
	"cairn/internal/nodeapi"
)

// adminTokenFile is where a node saves the admin token in its data dir.
const adminTokenFile = "admin-token"

// mountAdmin serves the admin API on the operator's port (opMux, for
// storectl) and on the node API mux (where only tenant nodes reach it: a
// node forwards healing calls to the leader there), and saves the admin
// token (derived from the cluster secret, so every tenant node accepts it)
// in the data dir for storectl. It returns the admin API's handler, for
// the console.
func mountAdmin(mux, opMux *http.ServeMux, cfg Config, id string, ms *meta.Store, healer *heal.Healer, mc *metarpc.Client, members *cluster.Cluster,
	nodes *remoteNodes, enroll *enroller, log *slog.Logger) (http.Handler, error) {
	token, err := admin.Token(cfg.Secret)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(cfg.DataDir, adminTokenFile)
	if err := durable.WriteFile(path, []byte(token+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("save the admin token: %w", err)
	}
	var leader func() string
	if ms != nil {
		leader = func() string {
			_, id := ms.Raft().LeaderWithID()
			return string(id)
		}
	}
	srv, err := admin.NewServer(admin.Config{
		Leader:  leader,
		Meta:    mc,
		Members: members,
		Nodes:   func(id string) (admin.NodeClient, error) { return adminNode{nodes, id}, nil },
		Token:   token,
		K:       cfg.K,
		M:       cfg.M,
		Logger:  log.With("component", "admin"),
		Heal:    &leaderHealing{self: id, h: healer, ms: ms, members: members, http: nodes.http, token: token},
		Invite: func(ctx context.Context, zone, nodeID string, ttl time.Duration) (*adminapi.Invite, error) {
			token, inv, err := enroll.invite(zone, nodeID, ttl)
			if err != nil {
				return nil, err
			}
			return &adminapi.Invite{Token: token, Zone: inv.Zone, NodeID: inv.NodeID, Expires: inv.Expires,
				Command: contributorCommand(token, nodeID)}, nil
		},
	})
	if err != nil {
		return nil, err
	}
	mux.Handle(adminapi.PathPrefix, srv)
	opMux.Handle(adminapi.PathPrefix, srv)
	return srv, nil
}

// contributorCommand is the storaged command line a contributor runs with
// an invite: its directories and addresses are for it to fill in.
func contributorCommand(token, nodeID string) string {
	cmd := "storaged --storage /srv/cairn/shards --data /srv/cairn/data --api HOST:7071 --gossip HOST:7946"
	if nodeID != "" {
		cmd += " --node-id " + nodeID
	}
	return cmd + " --join-token " + token
}

// followRevocations keeps t's revoked nodes in step with the layout.
func followRevocations(ctx context.Context, t *trust, ls layout.Store, log *slog.Logger) {
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		l, err := ls.Layout(lctx)
		cancel()
		if err == nil {
			t.setLayout(l)
		} else if ctx.Err() == nil {
			log.Debug("read the layout for revocations", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// adminNode asks a storage node over its API, resolving its address when
// asked (so a node down at the time gives an error, not a stale client).
type adminNode struct {
	nodes *remoteNodes
	id    string
}

func (a adminNode) Status(ctx context.Context) (nodeapi.Status, error) {
	c, err := a.nodes.client(a.id)
	if err != nil {
		return nodeapi.Status{}, err
	}
	return c.Status(ctx)
}

func (a adminNode) Has(ctx context.Context, id cid.Cid) (bool, error) {
	c, err := a.nodes.client(a.id)
	if err != nil {
		return false, err
	}
	return c.Has(ctx, id)
}
