package cli

import "runtime/debug"

// A server spends much of its CPU in the garbage collector at Go's default
// (collect when the heap has doubled): a quarter of it on PostgreSQL under
// load. Collecting when the heap has tripled gives the single writer about
// a tenth more debits a second (SQLite, 64 clients) for some 10 MB more
// memory. A soft limit on the Go heap keeps a flood of clients from
// growing the process past 300 MB (2,000 clients on SQLite, whose page
// caches are outside the Go heap): near it the collector runs more often
// instead. At 150 MiB that run peaked at 303 MB, at 128 MiB at 283 MB with
// as many answers. GOGC and GOMEMLIMIT, when set, take precedence.
const (
	serverGCPercent   = 200
	serverMemoryLimit = 128 << 20
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
