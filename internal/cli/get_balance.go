package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/poise-payments/poise/internal/api/paynet"
)

// getBalanceTimeout bounds one get-balance call.
const getBalanceTimeout = 30 * time.Second

func runGetBalance(ctx context.Context, args []string, env Env) int {
	fs := newFlagSet(env, "get-balance", "[flags]", "POISE_CLIENT_", `
Asks a Poise server for the balances of a merchant or a manager, signing the
request with OAuth 1.0 HMAC-SHA1 as the login with its control key, and
prints the answer.`)
	server := fs.String("url", "http://127.0.0.1:5000", "base `url` of the Poise server")
	login := fs.String("login", "", "merchant or manager `login` (the OAuth consumer key)")
	key := fs.String("control-key", "", "the login's control `key` (the OAuth consumer secret)")
	manager := fs.Bool("manager", false, "the login is a manager's")
	name := fs.String("balance-name", "", "only the balance of this `name`")
	if ok, code := fs.parse(args); !ok {
		return code
	}
	if *login == "" || *key == "" {
		return fs.fail(fmt.Errorf("--login and --control-key are required"))
	}
	kind := "merchant"
	if *manager {
		kind = "manager"
	}
	form := url.Values{}
	if *name != "" {
		form.Set("balance-name", *name)
	}
	body := form.Encode()
	ctx, cancel := context.WithTimeout(ctx, getBalanceTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(*server, "/")+paynet.Prefix+kind+"/"+url.PathEscape(*login), strings.NewReader(body))
	if err != nil {
		return fs.fail(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if err := paynet.SignRequest(req, []byte(body), *login, *key, time.Now()); err != nil {
		return fs.fail(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintln(env.Stderr, "get-balance:", err)
		return exitFailure
	}
	defer resp.Body.Close()
	io.Copy(env.Stdout, resp.Body)
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintln(env.Stderr, "get-balance:", resp.Status)
		return exitFailure
	}
	return exitOK
}
