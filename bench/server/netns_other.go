//go:build !linux

package server

import (
	"context"
	"errors"
	"net"
	"os/exec"
)

// Netns is a network namespace of the benchmark's own; only Linux has
// them.
type Netns struct {
	HostIP, IP string
}

var errNoNetns = errors.New("netns: network namespaces are Linux's")

// NewNetns fails: network namespaces are Linux's.
func NewNetns(ctx context.Context) (*Netns, error) { return nil, errNoNetns }

// Command runs name as it is.
func (n *Netns) Command(name string, args ...string) *exec.Cmd { return exec.Command(name, args...) }

// Listen fails.
func (n *Netns) Listen(network, addr string) (net.Listener, error) { return nil, errNoNetns }

// Close does nothing.
func (n *Netns) Close() error { return nil }
