package cli_test

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/poise-payments/poise/internal/cli"
)

// serveOn starts poise serve with args and returns the port it listens on.
func serveOn(t *testing.T, vars map[string]string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr output
	env := cli.Env{Lookup: func(n string) (string, bool) { v, ok := vars[n]; return v, ok }, Stdout: &stdout, Stderr: &stderr, Version: "test"}
	exited := make(chan int, 1)
	go func() {
		exited <- cli.Run(ctx, append([]string{"serve", "--data-dir", t.TempDir()}, args...), env)
	}()
	addr := waitForListening(t, &stderr, exited)
	t.Cleanup(func() {
		cancel()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			t.Error("serve did not stop")
		}
	})
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return port
}

func postAPIKey(t *testing.T, port, bearer string) int {
	t.Helper()
	req, _ := http.NewRequest("POST", "http://127.0.0.1:"+port+"/api_keys", nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// A server on a loopback address, or declared a test deployment, lets
// anyone open a marketplace; one on every interface asks for the
// operator token from its configuration.
func TestWhoMayOpenAMarketplace(t *testing.T) {
	t.Run("loopback", func(t *testing.T) {
		port := serveOn(t, nil, "--listen", "127.0.0.1:0")
		if got := postAPIKey(t, port, ""); got != http.StatusCreated {
			t.Fatalf("POST /api_keys on loopback = %d", got)
		}
	})
	t.Run("every interface, operator token", func(t *testing.T) {
		port := serveOn(t, map[string]string{"POISE_OPERATOR_TOKEN": "op-1"}, "--listen", ":0")
		if got := postAPIKey(t, port, ""); got != http.StatusUnauthorized {
			t.Fatalf("POST /api_keys without the token = %d", got)
		}
		if got := postAPIKey(t, port, "op-2"); got != http.StatusForbidden {
			t.Fatalf("POST /api_keys with a wrong token = %d", got)
		}
		if got := postAPIKey(t, port, "op-1"); got != http.StatusCreated {
			t.Fatalf("POST /api_keys with the token = %d", got)
		}
	})
	t.Run("every interface, no token", func(t *testing.T) {
		port := serveOn(t, nil, "--listen", ":0")
		if got := postAPIKey(t, port, "anything"); got != http.StatusForbidden {
			t.Fatalf("POST /api_keys = %d", got)
		}
	})
	t.Run("declared test deployment", func(t *testing.T) {
		port := serveOn(t, map[string]string{"POISE_OPEN_SIGNUP": "true"}, "--listen", ":0")
		if got := postAPIKey(t, port, ""); got != http.StatusCreated {
			t.Fatalf("POST /api_keys with open signup = %d", got)
		}
	})
}

// poise serve serves the dashboard's pages beside the APIs, and the
// Balanced root keeps answering JSON.
func TestServeServesTheDashboard(t *testing.T) {
	port := serveOn(t, nil, "--listen", "127.0.0.1:0")
	for path, want := range map[string]string{"/": "application/json", "/dashboard/sign-in": "text/html; charset=utf-8"} {
		resp, err := http.Get("http://127.0.0.1:" + port + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != want {
			t.Errorf("GET %s = %d %q, want 200 %q", path, resp.StatusCode, resp.Header.Get("Content-Type"), want)
		}
	}
}
