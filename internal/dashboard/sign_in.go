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

// signIn checks an API key secret and opens a session for its
// marketplace. The secret is checked once, here; the session remembers the
// key's id, never the secret.
func (d *Dashboard) signIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		d.fail(w, r, nil, apperr.New(apperr.Invalid, "the form could not be read"))
		return
	}
	c, _ := r.Cookie(signInCookie)
	if c == nil || !sameToken(r.PostFormValue("csrf"), c.Value) {
		d.fail(w, r, nil, apperr.New(apperr.Forbidden, "this form is missing its security token; reload the page and try again"))
		return
	}
	addr, now := clientAddr(r), d.clk.Now()
	if !d.limit.allowed(addr, now) {
		w.Header().Set("Retry-After", "600")
		d.showSignIn(w, r, http.StatusTooManyRequests, "Too many failed sign-ins from your address; wait a few minutes and try again.")
		return
	}
	key, err := d.svc.Authenticate(r.Context(), r.PostFormValue("secret"))
	if apperr.Is(err, apperr.Unauthorized) || (err == nil && key.Marketplace == "") {
		d.limit.failed(addr, now)
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
	token, _ := d.sessions.open(key.ID, key.Marketplace, now)
	d.setCookie(w, r, sessionCookie, token, sessionTTL)
	d.setCookie(w, r, signInCookie, "", -1)
	http.Redirect(w, r, Prefix, http.StatusSeeOther)
}

func (d *Dashboard) signOut(p *page) error {
	d.sessions.close(p.token)
	d.setCookie(p.w, p.r, sessionCookie, "", -1)
	http.Redirect(p.w, p.r, Prefix+"sign-in", http.StatusSeeOther)
	return nil
}
