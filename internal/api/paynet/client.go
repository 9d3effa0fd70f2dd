package paynet

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// SignRequest signs r, whose form body is body, with OAuth 1.0 HMAC-SHA1
// as consumerKey (a login) with consumerSecret (its control key), at now.
// It is what `poise get-balance` uses; any RFC 5849 library signs the same.
func SignRequest(r *http.Request, body []byte, consumerKey, consumerSecret string, now time.Time) error {
	nonce := make([]byte, 16)
	if _, err := rand.Read(nonce); err != nil {
		return err
	}
	oauth := map[string]string{
		"oauth_consumer_key":     consumerKey,
		"oauth_nonce":            hex.EncodeToString(nonce),
		"oauth_signature_method": "HMAC-SHA1",
		"oauth_timestamp":        strconv.FormatInt(now.Unix(), 10),
		"oauth_version":          "1.0",
	}
	header := make([]string, 0, len(oauth)+1)
	for k, v := range oauth {
		header = append(header, percentEncode(k)+`="`+percentEncode(v)+`"`)
	}
	// The parameters to sign are the request's own plus these.
	r.Header.Set("Authorization", "OAuth "+strings.Join(header, ", "))
	params, _, err := collect(r, body)
	if err != nil {
		return err
	}
	sig := Sign(r.Method, baseURI(r), params, consumerSecret, "")
	r.Header.Set("Authorization", "OAuth "+strings.Join(append(header, `oauth_signature="`+percentEncode(sig)+`"`), ", "))
	return nil
}
