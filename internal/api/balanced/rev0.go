package balanced

import (
	"net/http"
	"strings"

	"github.com/poise-payments/poise/internal/apperr"
)

// rev0Prefix starts the URIs of Balanced's revision 0 (API 1.0). Clients
// and databases of that time kept them (a customer's "uri" was
// /v1/customers/CU…, a debit's /v1/marketplaces/MP…/debits/WD…), and they
// already name resources inside request bodies; a GET of one answers the
// resource as revision 1.1 shows it.
const rev0Prefix = "/v1/"

// rev0Types are revision 0's collection names whose resources revision
// 1.1 types otherwise.
var rev0Types = map[string]string{"holds": "card_holds", "verifications": "bank_account_verifications"}

// rev0Parent is a resource a revision-0 URI passes through on its way to
// the one it names; it must be the caller's.
type rev0Parent struct{ collection, id string }

// rev0Path translates a revision-0 URI to the revision 1.1 path of the same
// resource or list: the resource is named by its last collection and id,
// a list by its parent and name, and a list under the marketplace is the
// marketplace's own list. ok is false for a path that is not revision 0's.
//
//	/v1/customers/CU1                  → /customers/CU1
//	/v1/marketplaces/MP1/debits/WD1    → /debits/WD1     (MP1 must be the caller's)
//	/v1/bank_accounts/BA1/verifications/BZ1 → /verifications/BZ1 (BA1 must be the caller's)
//	/v1/marketplaces/MP1/debits        → /debits
//	/v1/customers/CU1/debits           → /customers/CU1/debits
func rev0Path(path string) (string, []rev0Parent, bool) {
	rest, ok := strings.CutPrefix(path, rev0Prefix)
	if !ok || rest == "" {
		return "", nil, false
	}
	segs := strings.Split(rest, "/")
	for _, s := range segs {
		if s == "" {
			return "", nil, false
		}
	}
	// The resource or list named, and the pairs before it.
	var tail []string
	if len(segs)%2 == 0 {
		tail, segs = segs[len(segs)-2:], segs[:len(segs)-2]
	} else if len(segs) == 1 {
		tail, segs = segs, nil
	} else {
		tail, segs = segs[len(segs)-3:], segs[:len(segs)-3]
		if tail[0] == "marketplaces" {
			segs = append(segs, tail[:2]...)
			tail = tail[2:]
		}
	}
	var parents []rev0Parent
	for i := 0; i+1 < len(segs); i += 2 {
		parents = append(parents, rev0Parent{collection: segs[i], id: segs[i+1]})
	}
	return "/" + strings.Join(tail, "/"), parents, true
}

// checkRev0Parents answers not found unless every resource a revision-0
// URI passed through is the caller's and of its collection's type.
func (a *API) checkRev0Parents(c *call, parents []rev0Parent) error {
	for _, p := range parents {
		if p.collection == "marketplaces" {
			if p.id != c.mp() {
				return apperr.New(apperr.NotFound, "no marketplace with id %s", p.id)
			}
			continue
		}
		typ := p.collection
		if t, ok := rev0Types[typ]; ok {
			typ = t
		}
		if _, err := a.svc.GetTyped(c.ctx, c.mp(), typ, p.id); err != nil {
			return err
		}
	}
	return nil
}

// rev0Readable reports whether a request may be read as revision 0's:
// only reads are, since revision 0's request bodies differ.
func rev0Readable(method string) bool {
	return method == http.MethodGet || method == http.MethodHead
}
