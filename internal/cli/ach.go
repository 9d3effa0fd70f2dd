package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/poise-payments/poise/internal/achfile"
	"github.com/poise-payments/poise/internal/money"
	"github.com/poise-payments/poise/internal/payments"
)

// Limits of the ach command.
const (
	// achCallTimeout bounds one call to the server.
	achCallTimeout = 60 * time.Second
	// maxACHListBytes bounds a file list read: a page of 100 files is a
	// few tens of kilobytes.
	maxACHListBytes = 1 << 20
)

// achEnvPrefix is shared with the other commands that talk to a server.
const achEnvPrefix = "POISE_CLIENT_"

func runACH(ctx context.Context, args []string, env Env) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		w := env.Stderr
		if len(args) > 0 {
			w = env.Stdout
		}
		io.WriteString(w, `Usage:
  poise ach files [--download ID] [flags]
  poise ach returns [flags] FILE

Talks to a Poise server about a live marketplace's NACHA files, with the
marketplace's API key secret: lists and downloads its NACHA files, and
uploads the returns files its bank sends back. 'poise ach files --help' and
'poise ach returns --help' list the flags.
`)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	switch args[0] {
	case "files":
		return runACHFiles(ctx, args[1:], env)
	case "returns":
		return runACHReturns(ctx, args[1:], env)
	}
	fmt.Fprintf(env.Stderr, "poise ach: unknown subcommand %q\n", args[0])
	return exitUsage
}

// achClient is the part of the flags every ach subcommand takes.
type achClient struct {
	server *string
	secret *string
}

func newACHClient(fs *flagSet) achClient {
	return achClient{
		server: fs.String("url", "http://127.0.0.1:5000", "base `url` of the Poise server"),
		secret: fs.String("api-key", "", "the marketplace's API key `secret`"),
	}
}

func (c achClient) do(ctx context.Context, method, path string, body io.Reader, contentType string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(*c.server, "/")+path, body)
	if err != nil {
		return nil, err
	}
	req.SetBasicAuth(*c.secret, "")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return http.DefaultClient.Do(req)
}

// failed reports a refused call with the server's own error text.
func failed(env Env, what string, resp *http.Response) int {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxACHListBytes))
	var e struct {
		Errors []struct {
			CategoryCode string `json:"category_code"`
			Description  string `json:"description"`
		} `json:"errors"`
	}
	if json.Unmarshal(b, &e) == nil && len(e.Errors) > 0 {
		fmt.Fprintf(env.Stderr, "%s: %s: %s (%s)\n", what, resp.Status, e.Errors[0].Description, e.Errors[0].CategoryCode)
	} else {
		fmt.Fprintf(env.Stderr, "%s: %s\n", what, resp.Status)
	}
	return exitFailure
}

func runACHFiles(ctx context.Context, args []string, env Env) int {
	fs := newFlagSet(env, "ach files", "[--download ID] [flags]", achEnvPrefix, `
Lists a live marketplace's NACHA files, newest first, one per closed ACH
cut-off window; with --download, writes one file's content to standard
output, as the bank takes it.`)
	client := newACHClient(fs)
	download := fs.String("download", "", "write the file with this `id` to standard output")
	limit := fs.Int("limit", 20, "list at most this many files")
	if ok, code := fs.parse(args); !ok {
		return code
	}
	if *client.secret == "" {
		return fs.fail(fmt.Errorf("--api-key is required"))
	}
	ctx, cancel := context.WithTimeout(ctx, achCallTimeout)
	defer cancel()
	if *download != "" {
		resp, err := client.do(ctx, http.MethodGet, "/ach_files/"+url.PathEscape(*download)+"/content", nil, "")
		if err != nil {
			fmt.Fprintln(env.Stderr, "ach files:", err)
			return exitFailure
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return failed(env, "ach files", resp)
		}
		if _, err := io.Copy(env.Stdout, resp.Body); err != nil {
			fmt.Fprintln(env.Stderr, "ach files:", err)
			return exitFailure
		}
		return exitOK
	}
	if *limit < 1 || *limit > 100 {
		return fs.fail(fmt.Errorf("--limit must be 1 to 100"))
	}
	resp, err := client.do(ctx, http.MethodGet, fmt.Sprintf("/ach_files?limit=%d", *limit), nil, "")
	if err != nil {
		fmt.Fprintln(env.Stderr, "ach files:", err)
		return exitFailure
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return failed(env, "ach files", resp)
	}
	var list struct {
		Files []struct {
			ID            string `json:"id"`
			CutoffAt      string `json:"cutoff_at"`
			EffectiveDate string `json:"effective_date"`
			EntryCount    int    `json:"entry_count"`
			Debit         int64  `json:"total_debit_amount"`
			Credit        int64  `json:"total_credit_amount"`
		} `json:"ach_files"`
		Meta struct {
			Total int `json:"total"`
		} `json:"meta"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxACHListBytes)).Decode(&list); err != nil {
		fmt.Fprintln(env.Stderr, "ach files: reading the list:", err)
		return exitFailure
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tCUT-OFF\tEFFECTIVE\tENTRIES\tDEBITS\tCREDITS")
	for _, f := range list.Files {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", f.ID, f.CutoffAt, f.EffectiveDate, f.EntryCount, cents(f.Debit), cents(f.Credit))
	}
	tw.Flush()
	if list.Meta.Total > len(list.Files) {
		fmt.Fprintf(env.Stdout, "(%d of %d files)\n", len(list.Files), list.Meta.Total)
	}
	return exitOK
}

// cents shows minor units of the Balanced API's currency as money.Amount
// writes amounts: "12.34".
func cents(n int64) string {
	usd, _ := money.LookupCurrency(payments.Currency) // in the table by construction
	return money.Amount{Minor: n, Currency: usd}.Decimal()
}

func runACHReturns(ctx context.Context, args []string, env Env) int {
	fs := newFlagSet(env, "ach returns", "[flags] FILE", achEnvPrefix, `
Uploads a returns file the marketplace's bank sent (NACHA returns with
addenda 99, notifications of change with addenda 98). Each return fails the transaction its trace number names, even one
that had succeeded, and moves its money back; a file uploaded twice changes
nothing the second time. Prints what each entry did.`)
	client := newACHClient(fs)
	fs.maxArgs = 1
	if ok, code := fs.parse(args); !ok {
		return code
	}
	if *client.secret == "" {
		return fs.fail(fmt.Errorf("--api-key is required"))
	}
	if fs.NArg() != 1 {
		return fs.fail(fmt.Errorf("name the returns FILE"))
	}
	content, err := readLimited(fs.Arg(0), maxReturnsUploadBytes+1)
	if err != nil {
		fmt.Fprintln(env.Stderr, "ach returns:", err)
		return exitFailure
	}
	if len(content) > maxReturnsUploadBytes {
		fmt.Fprintf(env.Stderr, "ach returns: the file is larger than %d bytes\n", maxReturnsUploadBytes)
		return exitFailure
	}
	ctx, cancel := context.WithTimeout(ctx, achCallTimeout)
	defer cancel()
	resp, err := client.do(ctx, http.MethodPost, "/ach_returns", bytes.NewReader(content), "text/plain")
	if err != nil {
		fmt.Fprintln(env.Stderr, "ach returns:", err)
		return exitFailure
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return failed(env, "ach returns", resp)
	}
	var res struct {
		Returns []struct {
			Trace   string `json:"trace_number"`
			Code    string `json:"return_code"`
			Reason  string `json:"reason"`
			Outcome string `json:"outcome"`
			Links   struct {
				Transaction string `json:"transaction"`
			} `json:"links"`
		} `json:"ach_returns"`
		Changes []struct {
			Trace   string `json:"trace_number"`
			Code    string `json:"change_code"`
			Data    string `json:"corrected_data"`
			Outcome string `json:"outcome"`
			Links   struct {
				BankAccount string `json:"bank_account"`
			} `json:"links"`
		} `json:"ach_changes"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxACHListBytes)).Decode(&res); err != nil {
		fmt.Fprintln(env.Stderr, "ach returns: reading the answer:", err)
		return exitFailure
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TRACE\tCODE\tOUTCOME\tTRANSACTION\tREASON")
	for _, r := range res.Returns {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Trace, r.Code, r.Outcome, r.Links.Transaction, r.Reason)
	}
	for _, c := range res.Changes {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\tcorrected data %q\n", c.Trace, c.Code, c.Outcome, c.Links.BankAccount, c.Data)
	}
	tw.Flush()
	return exitOK
}

// maxReturnsUploadBytes is the server's limit of a returns file, checked
// here to fail before sending.
const maxReturnsUploadBytes = achfile.MaxReturnsFileBytes

func readLimited(name string, limit int64) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, limit))
}
