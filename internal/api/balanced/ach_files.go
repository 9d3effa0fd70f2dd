package balanced

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/payments"
)

// A live marketplace's bank configuration and the NACHA files it sent: an
// administrative resource of the marketplace, in the API's style, for the
// marketplace's own key.

// achSettingsFields are the fields of PUT /marketplaces/:id/ach_settings.
var achSettingsFields = []string{"odfi_routing_number", "company_id", "company_name", "origin_name", "destination_name"}

func achSettingsRep(mp string, s payments.ACHSettings) map[string]any {
	return map[string]any{
		"href":                "/marketplaces/" + mp + "/ach_settings",
		"odfi_routing_number": s.ODFIRouting,
		"company_id":          s.CompanyID,
		"company_name":        s.CompanyName,
		"origin_name":         s.OriginName,
		"destination_name":    s.DestinationName,
		"links":               map[string]any{"marketplace": mp},
	}
}

// ownMarketplace refuses any marketplace but the caller's.
func (c *call) ownMarketplace() error {
	if err := c.needMarketplace(); err != nil {
		return err
	}
	if c.params["id"] != c.mp() {
		return apperr.New(apperr.NotFound, "no marketplace with id %s", c.params["id"])
	}
	return nil
}

func (a *API) getACHSettings(c *call) error {
	if err := c.ownMarketplace(); err != nil {
		return err
	}
	s, err := a.svc.ACHSettingsOf(c.ctx, c.mp())
	if err != nil {
		return err
	}
	a.write(c, http.StatusOK, map[string]any{"ach_settings": []any{achSettingsRep(c.mp(), s)}, "links": map[string]any{}})
	return nil
}

// putACHSettings sets the whole configuration: every field is required.
func (a *API) putACHSettings(c *call) error {
	if err := c.ownMarketplace(); err != nil {
		return err
	}
	f, err := c.fields("ach_settings")
	if err != nil {
		return err
	}
	if err := f.scalars(achSettingsFields...); err != nil {
		return err
	}
	s, err := a.svc.SetACHSettings(c.ctx, c.mp(), payments.ACHSettings{
		ODFIRouting: f.str("odfi_routing_number"), CompanyID: f.str("company_id"), CompanyName: f.str("company_name"),
		OriginName: f.str("origin_name"), DestinationName: f.str("destination_name"),
	})
	if err != nil {
		return err
	}
	a.write(c, http.StatusOK, map[string]any{"ach_settings": []any{achSettingsRep(c.mp(), s)}, "links": map[string]any{}})
	return nil
}

func achFileRep(f payments.ACHFile) map[string]any {
	return map[string]any{
		"id":                  f.ID,
		"href":                "/ach_files/" + f.ID,
		"created_at":          f.CreatedAt.UTC().Format(timeFormat),
		"cutoff_at":           f.CutoffAt.UTC().Format(timeFormat),
		"effective_date":      f.EffectiveDate,
		"file_id_modifier":    f.FileIDModifier,
		"entry_count":         f.EntryCount,
		"entry_hash":          f.EntryHash,
		"total_debit_amount":  f.DebitCents,
		"total_credit_amount": f.CreditCents,
		"currency":            payments.Currency,
		"links":               map[string]any{"content": "/ach_files/" + f.ID + "/content"},
	}
}

func (a *API) listACHFiles(c *call) error {
	if err := c.needMarketplace(); err != nil {
		return err
	}
	limit, offset, err := c.page()
	if err != nil {
		return err
	}
	limit = min(limit, payments.MaxACHFilesPage)
	files, total, err := a.svc.ListACHFiles(c.ctx, c.mp(), limit, offset)
	if err != nil {
		return err
	}
	reps := make([]any, 0, len(files))
	for _, f := range files {
		reps = append(reps, achFileRep(f))
	}
	a.write(c, http.StatusOK, map[string]any{"ach_files": reps, "links": map[string]any{}, "meta": pageMeta(c.r.URL.Path, "", limit, offset, total)})
	return nil
}

func (a *API) getACHFile(c *call) error {
	if err := c.needMarketplace(); err != nil {
		return err
	}
	f, err := a.svc.GetACHFile(c.ctx, c.mp(), c.params["id"], false)
	if err != nil {
		return err
	}
	a.write(c, http.StatusOK, map[string]any{"ach_files": []any{achFileRep(f)}, "links": map[string]any{}})
	return nil
}

// achFileContent answers the file itself, as the bank takes it.
func (a *API) achFileContent(c *call) error {
	if err := c.needMarketplace(); err != nil {
		return err
	}
	f, err := a.svc.GetACHFile(c.ctx, c.mp(), c.params["id"], true)
	if err != nil {
		return err
	}
	c.w.Header().Set("Content-Type", "text/plain; charset=us-ascii")
	c.w.Header().Set("Content-Disposition", `attachment; filename="`+f.ID+`.ach"`)
	c.w.WriteHeader(http.StatusOK)
	if _, err := c.w.Write(f.Content); err != nil {
		a.log.Warn("writing an ACH file failed", "request_id", c.requestID, "error", err)
	}
	return nil
}

// postACHReturns applies a bank's returns file, sent as the body itself
// (text/plain) or as the one file of a multipart/form-data upload.
func (a *API) postACHReturns(c *call) error {
	if err := c.needMarketplace(); err != nil {
		return err
	}
	content, err := uploadedFile(c)
	if err != nil {
		return err
	}
	res, err := a.svc.ApplyACHReturns(c.ctx, c.mp(), content)
	if err != nil {
		return err
	}
	returns := make([]any, 0, len(res.Returns))
	for _, r := range res.Returns {
		returns = append(returns, map[string]any{
			"trace_number": r.TraceNumber, "return_code": r.Code, "reason": r.Reason,
			"outcome": r.Outcome, "links": map[string]any{"transaction": orNil(r.Transaction)},
		})
	}
	changes := make([]any, 0, len(res.Changes))
	for _, ch := range res.Changes {
		changes = append(changes, map[string]any{
			"trace_number": ch.TraceNumber, "change_code": ch.Code, "reason": ch.Reason,
			"corrected_data": ch.CorrectedData, "outcome": ch.Outcome,
			"links": map[string]any{"bank_account": orNil(ch.BankAccount)},
		})
	}
	a.write(c, http.StatusOK, map[string]any{"ach_returns": returns, "ach_changes": changes, "links": map[string]any{}})
	return nil
}

func orNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// uploadedFile is the file a request carries: its body, or the first file
// part of a multipart form.
func uploadedFile(c *call) ([]byte, error) {
	mediaType, params, err := mime.ParseMediaType(c.r.Header.Get("Content-Type"))
	if err != nil || !strings.HasPrefix(mediaType, "multipart/") {
		if len(c.body) == 0 {
			return nil, apperr.WithReason(apperr.Invalid, "request", "send the returns file as the request body")
		}
		return c.body, nil
	}
	mr := multipart.NewReader(bytes.NewReader(c.body), params["boundary"])
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return nil, apperr.WithReason(apperr.Invalid, "request", "the form holds no file")
		}
		if err != nil {
			return nil, apperr.WithReason(apperr.Invalid, "request", "the multipart body does not parse")
		}
		if part.FileName() == "" {
			continue
		}
		b, err := io.ReadAll(part)
		if err != nil {
			return nil, apperr.WithReason(apperr.Invalid, "request", "the multipart body does not parse")
		}
		return b, nil
	}
}
