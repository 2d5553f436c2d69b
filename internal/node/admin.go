package node

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"

	"github.com/ipfs/go-cid"

	"cairn/internal/admin"
	"cairn/internal/admin/adminapi"
	"cairn/internal/cluster"
	"cairn/internal/durable"
	"cairn/internal/heal"
	"cairn/internal/meta"
	"cairn/internal/metarpc"
	"cairn/internal/nodeapi"
)

// adminTokenFile is where a node saves the admin token in its data dir.
const adminTokenFile = "admin-token"

// mountAdmin serves the admin API on the node API mux, and saves the admin
// token (derived from the cluster secret, so every node accepts it) in the
// data dir for storectl. It returns the admin API's base URL.
func mountAdmin(mux *http.ServeMux, cfg Config, id string, ms *meta.Store, healer *heal.Healer, mc *metarpc.Client, members *cluster.Cluster,
	nodes *remoteNodes, log *slog.Logger) (string, error) {
	token, err := admin.Token(cfg.Secret)
	if err != nil {
		return "", err
	}
	path := filepath.Join(cfg.DataDir, adminTokenFile)
	if err := durable.WriteFile(path, []byte(token+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("save the admin token: %w", err)
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
	})
	if err != nil {
		return "", err
	}
	mux.Handle(adminapi.PathPrefix, srv)
	return "http://" + cfg.APIAddr, nil
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
