package cli

import "runtime/debug"

// A server spends much of its CPU in the garbage collector at Go's default
// (collect when the heap has doubled): a quarter of it on PostgreSQL under
// load, and the collector's workers take turns on the two cores with the
// single writer. Its live heap is small (tens of MB), so collecting only
// when the heap has grown ninefold costs little memory: against collecting
// when it has tripled, debits into 5,000 orders at 64 clients ran 5-16%
// faster (12 s pairs on both stores) for 25-40 MB more at peak. A soft
// limit on the Go heap keeps a flood of clients from growing the process
// past 300 MB: near it the collector runs more often instead. With 2,000
// clients for 30 s the server peaked at 226 MB on SQLite (whose page
// caches are outside the Go heap) and 194 MB on PostgreSQL. GOGC and
// GOMEMLIMIT, when set, take precedence.
const (
	serverGCPercent   = 800
	serverMemoryLimit = 176 << 20
)

// tuneGC applies the server's collector settings where the environment
// (lookup, as os.LookupEnv) sets none. It returns what it set, for the log.
func tuneGC(lookup func(string) (string, bool)) (gcPercent int, memoryLimit int64) {
	gcPercent, memoryLimit = -1, -1
	if v, _ := lookup("GOGC"); v == "" {
		debug.SetGCPercent(serverGCPercent)
		gcPercent = serverGCPercent
	}
	if v, _ := lookup("GOMEMLIMIT"); v == "" {
		debug.SetMemoryLimit(serverMemoryLimit)
		memoryLimit = serverMemoryLimit
	}
	return gcPercent, memoryLimit
}
