package server

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/poise-payments/poise/internal/ledger"
)

// committerCollector exports the committer's own counters at scrape time,
// so the write path keeps one set of counters and pays nothing per
// operation for metrics. Ops divided by batches is the average batch: how
// many callers each fsync served.
type committerCollector struct {
	stats     *ledger.Stats
	batches   *prometheus.Desc
	ops       *prometheus.Desc
	fallbacks *prometheus.Desc
	withdrawn *prometheus.Desc
}

func newCommitterCollector(c *ledger.Committer) *committerCollector {
	return &committerCollector{
		stats: c.Stats(),
		batches: prometheus.NewDesc("poise_committer_batches_total",
			"Database transactions the committer ran, each serving one or more operations.", nil, nil),
		ops: prometheus.NewDesc("poise_committer_ops_total",
			"Operations the committer applied, refused ones included.", nil, nil),
		fallbacks: prometheus.NewDesc("poise_committer_fallbacks_total",
			"Batches that failed as a whole and were run again one operation at a time.", nil, nil),
		withdrawn: prometheus.NewDesc("poise_committer_withdrawn_total",
			"Operations never run because their callers stopped waiting first: the admission timeout (answered 503) or a cancelled request.", nil, nil),
	}
}

func (c *committerCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.batches
	ch <- c.ops
	ch <- c.fallbacks
	ch <- c.withdrawn
}

func (c *committerCollector) Collect(ch chan<- prometheus.Metric) {
	batches, ops, fallbacks := c.stats.Snapshot()
	ch <- prometheus.MustNewConstMetric(c.batches, prometheus.CounterValue, float64(batches))
	ch <- prometheus.MustNewConstMetric(c.ops, prometheus.CounterValue, float64(ops))
	ch <- prometheus.MustNewConstMetric(c.fallbacks, prometheus.CounterValue, float64(fallbacks))
	ch <- prometheus.MustNewConstMetric(c.withdrawn, prometheus.CounterValue, float64(c.stats.WithdrawnCount()))
}
