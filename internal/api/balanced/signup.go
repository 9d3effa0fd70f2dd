package balanced

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/poise-payments/poise/internal/apperr"
)

// Signup says who may open a new tenant. POST /api_keys without a key
// makes a key of no marketplace, which then creates its own: on a server
// others can reach, that is a decision for its operator.
type Signup struct {
	// Open lets anyone who reaches the server open a tenant: a server on a
	// loopback address, or a declared test deployment.
	Open bool
	// OperatorToken, when signup is not open, is the credential that may
	// still open one (see operatorCredential). Empty means nobody may.
	OperatorToken string
}

// SetSignup sets who may open a tenant; a new API lets anyone.
func (a *API) SetSignup(s Signup) { a.signup = s }

// mayOpenTenant checks a request for a new tenant against the signup rule.
func (a *API) mayOpenTenant(r *http.Request) error {
	if a.signup.Open {
		return nil
	}
	if a.signup.OperatorToken == "" {
		return apperr.New(apperr.Forbidden, "this server opens no new marketplaces: its operator has configured no operator token")
	}
	token := operatorCredential(r)
	if token == "" {
		return apperr.New(apperr.Unauthorized, "opening a marketplace on this server needs the operator's credential: Authorization: Bearer <operator token>, or basic auth with an empty user name and the token as password")
	}
	// Hashed first, so the comparison's time says nothing of the length.
	given, want := sha256.Sum256([]byte(token)), sha256.Sum256([]byte(a.signup.OperatorToken))
	if subtle.ConstantTimeCompare(given[:], want[:]) != 1 {
		return apperr.New(apperr.Forbidden, "the operator credential is not this server's")
	}
	return nil
}

// operatorCredential is the token a request offers as the operator's:
// "Authorization: Bearer <token>", or basic auth with an empty user name
// and the token as password (curl -u :<token>). A non-empty user name is an
// API key's secret, never the operator's.
func operatorCredential(r *http.Request) string {
	if user, pass, ok := r.BasicAuth(); ok {
		if user != "" {
			return ""
		}
		return pass
	}
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// isBearer reports whether an Authorization header value is a Bearer
// credential with a token.
func isBearer(header string) bool {
	scheme, token, _ := strings.Cut(header, " ")
	return strings.EqualFold(scheme, "Bearer") && strings.TrimSpace(token) != ""
}
