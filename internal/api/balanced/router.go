// Package balanced serves the Balanced Payments API, revision 1.1, on top
// of the payments service: the envelope, hrefs, links, paging and error
// format of the original, so that Balanced's own client libraries work by
// changing only their API root.
package balanced

import (
	"net/http"
	"strings"
)

// handlerFunc serves one route; it returns an error for the error mapping
// to answer, or nil when it wrote its response.
type handlerFunc func(c *call) error

// route is one method and path pattern; ":name" segments capture.
type route struct {
	method   string
	segments []string
	pattern  string
	// public routes may be called without an API key.
	public bool
	// opensTenant marks the route that opens a new tenant, which also
	// takes the operator's credential (a Bearer token) instead of a key.
	opensTenant bool
	// maxBody, when set, replaces the API's body limit for this route.
	maxBody int64
	handler handlerFunc
}

// router matches paths segment by segment. It never redirects: a trailing
// slash or a doubled slash simply matches nothing, because several client
// libraries do not follow redirects of a POST.
type router struct{ routes []route }

func (rt *router) handle(method, pattern string, h handlerFunc) {
	rt.routes = append(rt.routes, route{method: method, pattern: pattern, segments: split(pattern), handler: h})
}

func (rt *router) public(method, pattern string, h handlerFunc) {
	rt.handle(method, pattern, h)
	rt.routes[len(rt.routes)-1].public = true
}

// opensTenant registers the public route that opens a new tenant.
func (rt *router) opensTenant(method, pattern string, h handlerFunc) {
	rt.public(method, pattern, h)
	rt.routes[len(rt.routes)-1].opensTenant = true
}

func split(path string) []string {
	if path == "/" {
		return nil
	}
	return strings.Split(strings.TrimPrefix(path, "/"), "/")
}

// match finds the route for a request; allowed reports whether the path
// exists with another method (405 rather than 404).
func (rt *router) match(method, path string) (r *route, params map[string]string, allowed bool) {
	segs := split(path)
	for i := range rt.routes {
		cand := &rt.routes[i]
		p, ok := matchSegments(cand.segments, segs)
		if !ok {
			continue
		}
		if cand.method == method || (method == http.MethodHead && cand.method == http.MethodGet) {
			return cand, p, true
		}
		allowed = true
	}
	return nil, nil, allowed
}

func matchSegments(pattern, segs []string) (map[string]string, bool) {
	if len(pattern) != len(segs) {
		return nil, false
	}
	var params map[string]string
	for i, p := range pattern {
		if strings.HasPrefix(p, ":") {
			if segs[i] == "" {
				return nil, false
			}
			if params == nil {
				params = map[string]string{}
			}
			params[p[1:]] = segs[i]
			continue
		}
		if p != segs[i] {
			return nil, false
		}
	}
	return params, true
}
