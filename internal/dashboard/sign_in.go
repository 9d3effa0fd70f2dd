package dashboard

import (
	"net/http"

	"github.com/poise-payments/poise/internal/apperr"
)

// signInTokenTTL is how long a sign-in form may sit open before it is
// sent: a coffee break, no more.
const signInTokenTTLSeconds = 30 * 60

func (d *Dashboard) signInForm(w http.ResponseWriter, r *http.Request) {
	d.showSignIn(w, r, http.StatusOK, "")
}

func (d *Dashboard) showSignIn(w http.ResponseWriter, r *http.Request, status int, problem string) {
	token := newToken()
	http.SetCookie(w, &http.Cookie{Name: signInCookie, Value: token, Path: Prefix, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil, MaxAge: signInTokenTTLSeconds})
	d.render(w, status, "sign_in", view{Title: "Sign in", CSRF: token, Error: problem})
}

// signInChecked reads a sign-in form, checks its token and the failed
// sign-in limit, and answers the form itself when either refuses it.
func (d *Dashboard) signInChecked(w http.ResponseWriter, r *http.Request) (addr string, ok bool) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		d.fail(w, r, nil, apperr.New(apperr.Invalid, "the form could not be read"))
		return "", false
	}
	c, _ := r.Cookie(signInCookie)
	if c == nil || !sameToken(r.PostFormValue("csrf"), c.Value) {
		d.fail(w, r, nil, apperr.New(apperr.Forbidden, "this form is missing its security token; reload the page and try again"))
		return "", false
	}
	addr = clientAddr(r)
	if !d.limit.allowed(addr, d.clk.Now()) {
		w.Header().Set("Retry-After", "600")
		d.showSignIn(w, r, http.StatusTooManyRequests, "Too many failed sign-ins from your address; wait a few minutes and try again.")
		return "", false
	}
	return addr, true
}

// signIn checks an API key secret and opens a session for its
// marketplace. The secret is checked once, here; the session remembers the
// key's id, never the secret.
func (d *Dashboard) signIn(w http.ResponseWriter, r *http.Request) {
	addr, ok := d.signInChecked(w, r)
	if !ok {
		return
	}
	key, err := d.svc.Authenticate(r.Context(), r.PostFormValue("secret"))
	if apperr.Is(err, apperr.Unauthorized) || (err == nil && key.Marketplace == "") {
		d.limit.failed(addr, d.clk.Now())
		problem := "That API key secret is not valid."
		if err == nil {
			problem = "That API key has no marketplace yet."
		}
		d.showSignIn(w, r, http.StatusUnauthorized, problem)
		return
	}
	if err != nil {
		d.fail(w, r, nil, err)
		return
	}
	d.open(w, r, session{role: roleOperator, keyID: key.ID, marketplace: key.Marketplace}, Prefix)
}

// signInParty checks a merchant's or manager's login and control key (the
// consumer key and secret it signs balance API requests with) and opens a
// read-only session on its own pages. An unknown login and a wrong key
// get the same answer, so the form does not tell which logins exist.
func (d *Dashboard) signInParty(w http.ResponseWriter, r *http.Request) {
	addr, ok := d.signInChecked(w, r)
	if !ok {
		return
	}
	login, given := r.PostFormValue("login"), r.PostFormValue("control_key")
	party, err := d.mer.Party(r.Context(), login)
	var want string
	if err == nil {
		want, err = d.mer.ControlKey(r.Context(), login)
	}
	if apperr.Is(err, apperr.NotFound) || (err == nil && !sameToken(given, want)) {
		d.limit.failed(addr, d.clk.Now())
		d.showSignIn(w, r, http.StatusUnauthorized, "That login and control key do not match.")
		return
	}
	if err != nil {
		d.fail(w, r, nil, err)
		return
	}
	d.open(w, r, session{role: party.Type, party: party.ID, marketplace: party.Marketplace}, partyPath(party.ID))
}

// open starts a session, sets its cookie and sends the browser on to next.
func (d *Dashboard) open(w http.ResponseWriter, r *http.Request, se session, next string) {
	token, _ := d.sessions.open(se, d.clk.Now())
	d.setCookie(w, r, sessionCookie, token, sessionTTL)
	d.setCookie(w, r, signInCookie, "", -1)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (d *Dashboard) signOut(p *page) error {
	d.sessions.close(p.token)
	d.setCookie(p.w, p.r, sessionCookie, "", -1)
	http.Redirect(p.w, p.r, Prefix+"sign-in", http.StatusSeeOther)
	return nil
}
