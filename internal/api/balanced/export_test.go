package balanced

import "net/http"

// WriteRoutes lists "METHOD pattern" of every route that may write, so a
// test can cover them all, including routes added later.
func WriteRoutes(a *API) []string {
	var out []string
	for _, r := range a.router.routes {
		switch r.method {
		case http.MethodPost, http.MethodPut, http.MethodPatch:
			out = append(out, r.method+" "+r.pattern)
		}
	}
	return out
}
