package metrics

import (
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Namespace is the prefix of every Cairn metric: cairn_<subsystem>_<name>.
const Namespace = "cairn"

// Path is where a node serves its metrics, on its node API.
const Path = "/metrics"

// NewRegistry returns a new registry for one node, holding the Go runtime,
// process and build info collectors.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister( // cannot fail: a new registry, distinct collectors
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewBuildInfoCollector(),
	)
	return reg
}

// Register registers cs with reg, or does nothing when reg is nil. It fails
// if one of them is registered already, or clashes with a metric of the
// same name; those registered before the failure stay registered.
func Register(reg prometheus.Registerer, cs ...prometheus.Collector) error {
	if reg == nil {
		return nil
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("register metrics: %w", err)
		}
	}
	return nil
}

// RegisterNodeInfo registers cairn_node_info, always 1, whose labels say
// which node this is: its ID, zone and roles (sorted, comma-separated).
func RegisterNodeInfo(reg prometheus.Registerer, nodeID, zone string, roles []string) error {
	roles = slices.Sorted(slices.Values(roles))
	info := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: Namespace,
		Name:      "node_info",
		Help:      "Always 1; the labels say which node serves these metrics: its ID, zone and roles.",
		ConstLabels: prometheus.Labels{
			"node":  nodeID,
			"zone":  zone,
			"roles": strings.Join(roles, ","),
		},
	})
	info.Set(1)
	return Register(reg, info)
}

// Handler serves the metrics of g in the Prometheus text format (or
// OpenMetrics, or protobuf, as the scraper asks). It asks for no
// authentication, as Prometheus scrapes expect; see docs/metrics.md. At
// most a few scrapes run at once, each for at most 10 s; more get 503. A
// metric that fails to collect is logged and left out.
func Handler(g prometheus.Gatherer, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{
		ErrorLog:            errorLog{log},
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: 4,
		Timeout:             10 * time.Second,
	})
}

// errorLog is promhttp's logger over slog.
type errorLog struct{ log *slog.Logger }

func (l errorLog) Println(v ...any) {
	l.log.Warn("metrics: " + strings.TrimSuffix(fmt.Sprintln(v...), "\n"))
}
