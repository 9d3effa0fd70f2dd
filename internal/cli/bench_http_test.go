package cli_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
)

// The HTTP load runs end to end against a real server process on SQLite:
// every shape gets acknowledged operations, the escrow read back through
// the API matches them, and the ledger verifies. How fast is not asserted.
func TestBenchOverHTTP(t *testing.T) {
	t.Setenv(runAsPoise, "1")
	// A server variable in the shell must reach neither the server nor the
	// verifier.
	vars := map[string]string{"POISE_DATABASE_URL": "postgres://nobody@127.0.0.1:1/production"}
	code, stdout, stderr := run(t, context.Background(), vars,
		"bench", "--http", "--submitters", "1,4", "--duration", "150ms", "--orders", "20")
	if code != 0 {
		t.Fatalf("bench --http = %d\n%s%s", code, stdout, stderr)
	}
	for _, shape := range []string{"spread", "hot", "credits"} {
		for _, clients := range []string{"1", "4"} {
			// A 503 with Retry-After is the server shedding load (a slow
			// machine, the race detector), not a fault: nothing was written.
			line := regexp.MustCompile(`(?m)^sqlite +` + shape + ` +clients=` + clients +
				` +ok=(\d+) .*errors: (none|503×(\d+) \((\d+) with Retry-After\)) `).FindStringSubmatch(stdout)
			if line == nil || line[1] == "0" || line[3] != line[4] {
				t.Errorf("no clean case with acknowledged operations for %s at %s clients:\n%s", shape, clients, stdout)
			}
		}
	}
	t.Log(stdout)
	for _, want := range []string{"escrow ok: 22 orders", "server log: 0 errors", "ledger verified:"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the report does not say %q:\n%s", want, stdout)
		}
	}
}
