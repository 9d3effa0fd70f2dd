package dashboard

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"sync"
	"time"
)

// Session limits.
const (
	// sessionTTL is how long a sign-in lasts: a working day, after which
	// the operator signs in again with the key.
	sessionTTL = 8 * time.Hour
	// maxSessions bounds the server's memory for sessions. Ten thousand
	// people signed in at once is far beyond one self-hosted server; past
	// it the session closest to expiring gives way to the new one.
	maxSessions = 10_000
	// tokenBytes is the entropy of a session token and of a CSRF token.
	tokenBytes = 32
)

// Roles of a session.
const (
	// roleOperator signed in with an API key: the whole marketplace.
	roleOperator = "operator"
	// roleMerchants and roleManagers signed in with a login and control
	// key: their own balances, read only. The names are the types of the
	// parties' resources.
	roleMerchants = "merchants"
	roleManagers  = "managers"
)

// session is one signed-in browser. It holds who signed in, never the
// secret they signed in with.
type session struct {
	role string
	// keyID is an operator's API key; party a merchant's or manager's id.
	keyID, party string
	marketplace  string
	// csrf is the token every form of this session carries.
	csrf    string
	expires time.Time
}

// sessions are kept in memory, looked up by a hash of the cookie's token,
// so that a dump of the map gives nobody a cookie that works.
type sessions struct {
	mu   sync.Mutex
	byID map[string]session
}

func newSessions() *sessions { return &sessions{byID: map[string]session{}} }

// newToken returns a random URL-safe token.
func newToken() string {
	b := make([]byte, tokenBytes)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func tokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// open starts a session of who se names and returns the cookie's token.
func (s *sessions) open(se session, now time.Time) (string, session) {
	token := newToken()
	se.csrf, se.expires = newToken(), now.Add(sessionTTL)
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.byID) >= maxSessions {
		s.evict(now)
	}
	s.byID[tokenHash(token)] = se
	return token, se
}

// evict drops every expired session, or when none has expired the one
// that expires first. The caller holds mu.
func (s *sessions) evict(now time.Time) {
	var first string
	var firstAt time.Time
	dropped := false
	for h, se := range s.byID {
		if !now.Before(se.expires) {
			delete(s.byID, h)
			dropped = true
			continue
		}
		if first == "" || se.expires.Before(firstAt) {
			first, firstAt = h, se.expires
		}
	}
	if !dropped && first != "" {
		delete(s.byID, first)
	}
}

// get returns the live session of a token.
func (s *sessions) get(token string, now time.Time) (session, bool) {
	if token == "" {
		return session{}, false
	}
	h := tokenHash(token)
	s.mu.Lock()
	defer s.mu.Unlock()
	se, ok := s.byID[h]
	if !ok {
		return session{}, false
	}
	if !now.Before(se.expires) {
		delete(s.byID, h)
		return session{}, false
	}
	return se, true
}

// close ends the session of a token.
func (s *sessions) close(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byID, tokenHash(token))
}

func (s *sessions) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.byID)
}
