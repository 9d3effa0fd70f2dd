package dashboard_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/poise-payments/poise/internal/store/storetest"
)

// "Retry now" sends a delivery at once: a receiver that failed the first
// attempt and is fixed since gets it, and the delivery log shows both.
func TestRetryNowSendsADeliveryAgain(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		var calls, healthy atomic.Int32
		receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			if healthy.Load() == 0 {
				http.Error(w, "down", http.StatusServiceUnavailable)
			}
		}))
		defer receiver.Close()
		s := startSite(t, storetest.Open(t, kind))
		mp := newMarketplace(t, s.base)
		if st, body := mp.do("POST", "/callbacks", map[string]any{"url": receiver.URL + "/hook"}); st != 201 {
			t.Fatalf("callback: %d %v", st, body)
		}
		mp.sale(1_500)
		if _, _, err := s.deliverer.RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		if calls.Load() == 0 {
			t.Fatal("the deliverer sent nothing")
		}
		b := newBrowser(t, s.base)
		b.signIn(mp.secret)
		list := b.get("/dashboard/events")
		var event, delivery string
		for _, m := range regexp.MustCompile(`/dashboard/events/([A-Za-z0-9]+)"`).FindAllStringSubmatch(list.body, -1) {
			p := b.get("/dashboard/events/" + m[1])
			if d := regexp.MustCompile(`/deliveries/([A-Za-z0-9]+)/retry`).FindStringSubmatch(p.body); d != nil {
				event, delivery = m[1], d[1]
				break
			}
		}
		if delivery == "" {
			t.Fatalf("no event offers a retry:\n%s", list.body)
		}
		before := calls.Load()
		healthy.Store(1)
		other := newMarketplace(t, s.base)
		ob := newBrowser(t, s.base)
		otherPage := ob.signIn(other.secret)
		if p := ob.post("/dashboard/events/"+event+"/deliveries/"+delivery+"/retry", url.Values{"csrf": {otherPage.field("csrf")}}); p.status != http.StatusNotFound {
			t.Fatalf("another marketplace retried the delivery: %d", p.status)
		}
		if p := b.post("/dashboard/events/"+event+"/deliveries/"+delivery+"/retry", url.Values{}); p.status != http.StatusForbidden {
			t.Fatalf("a retry without its token: %d", p.status)
		}
		if calls.Load() != before {
			t.Fatal("a refused retry sent the callback")
		}
		p := b.post("/dashboard/events/"+event+"/deliveries/"+delivery+"/retry", url.Values{"csrf": {list.field("csrf")}})
		if p.status != http.StatusSeeOther {
			t.Fatalf("retry: %d %s", p.status, p.body)
		}
		if calls.Load() != before+1 {
			t.Fatalf("the receiver got %d calls from one retry", calls.Load()-before)
		}
		ev := b.get("/dashboard/events/" + event)
		if !strings.Contains(ev.body, `<span class="status succeeded">succeeded</span>`) || !strings.Contains(ev.body, "the receiver answered 503") {
			t.Fatalf("the delivery log after the retry:\n%s", ev.body)
		}
		if strings.Contains(ev.body, "/retry") {
			t.Fatal("a succeeded delivery still offers a retry")
		}
	})
}

// A key made from the page works against the API, its secret shown once;
// deleting it from the page ends its use.
func TestAPIKeysFromThePage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		base := newSite(t, kind)
		mp := newMarketplace(t, base)
		b := newBrowser(t, base)
		b.signIn(mp.secret)
		keys := b.get("/dashboard/api-keys")
		made := b.post("/dashboard/api-keys", url.Values{"csrf": {keys.field("csrf")}, "note": {"reporting"}})
		secret := regexp.MustCompile(`id="new-secret">([^<]+)<`).FindStringSubmatch(made.body)
		if made.status != http.StatusCreated || secret == nil || made.header.Get("Cache-Control") != "no-store" {
			t.Fatalf("a new key: %d\n%s", made.status, made.body)
		}
		keyID := regexp.MustCompile(`<code>(AK[A-Za-z0-9]+)</code>`).FindStringSubmatch(made.body)[1]
		newKey := &apiClient{t: t, base: base, secret: secret[1]}
		if st, _ := newKey.do("GET", "/marketplaces", nil); st != 200 {
			t.Fatalf("the new key answered %d", st)
		}
		if p := b.get("/dashboard/api-keys"); strings.Contains(p.body, secret[1]) || !strings.Contains(p.body, keyID) || !strings.Contains(p.body, "note=reporting") {
			t.Fatalf("the keys page after making one:\n%s", p.body)
		}
		if p := b.post("/dashboard/api-keys/"+keyID+"/delete", url.Values{"csrf": {keys.field("csrf")}}); p.status != http.StatusSeeOther {
			t.Fatalf("delete: %d %s", p.status, p.body)
		}
		if st, _ := newKey.do("GET", "/marketplaces", nil); st != http.StatusUnauthorized {
			t.Fatalf("a deleted key answered %d", st)
		}
		// Another marketplace's key is not found, and stays.
		other := newMarketplace(t, base)
		_, body := other.do("GET", "/api_keys", nil)
		otherKey := first(body, "api_keys")["id"].(string)
		if p := b.post("/dashboard/api-keys/"+otherKey+"/delete", url.Values{"csrf": {keys.field("csrf")}}); p.status != http.StatusNotFound {
			t.Fatalf("deleting another marketplace's key: %d", p.status)
		}
		if st, _ := other.do("GET", "/marketplaces", nil); st != 200 {
			t.Fatalf("the other marketplace's key answered %d", st)
		}
	})
}
