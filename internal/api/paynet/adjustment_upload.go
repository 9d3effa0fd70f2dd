package paynet

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/balances"
	"github.com/poise-payments/poise/internal/merchants"
	"github.com/poise-payments/poise/internal/payments"
)

// AdjustmentsPath is where a manager uploads an archived adjustments file,
// as the seed's debug form does: a multipart form with the manager's login
// and control key, the adjustments' source, and the archive.
const AdjustmentsPath = "/paynet/api/v2/adjustments"

// maxUploadBytes bounds an upload: a form around an archive of up to
// 10,000 TSV lines.
const maxUploadBytes = 8 << 20

// UploadAdjustments answers POST AdjustmentsPath. Fields: login (the
// manager's), control_key, source (the adjustments' external source,
// "upload" when empty) and file (a zip or gzip archive of TSV files as
// the seed describes). Each file is applied whole or not at all, and only
// to merchants the manager oversees; a refused file lists its bad lines.
func (a *API) UploadAdjustments(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.Method != http.MethodPost {
		a.fail(w, apperr.New(apperr.Invalid, "an upload is a POST"), http.StatusMethodNotAllowed)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxUploadBytes)
	if err := r.ParseMultipartForm(maxUploadBytes); err != nil {
		a.fail(w, apperr.New(apperr.Invalid, "send a multipart form (login, control_key, source, file) of at most %d bytes", maxUploadBytes), 0)
		return
	}
	defer r.MultipartForm.RemoveAll()
	manager, err := a.merchants.ManagerByKey(r.Context(), r.FormValue("login"), r.FormValue("control_key"))
	if err != nil {
		a.fail(w, err, 0)
		return
	}
	f, _, err := r.FormFile("file")
	if err != nil {
		a.fail(w, apperr.New(apperr.Invalid, "the form has no file"), 0)
		return
	}
	archive, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		a.fail(w, apperr.New(apperr.Invalid, "the file cannot be read"), 0)
		return
	}
	files, err := balances.Unpack(archive)
	if err != nil {
		a.fail(w, err, 0)
		return
	}
	source := r.FormValue("source")
	if source == "" {
		source = "upload"
	}
	results := []any{}
	status := http.StatusCreated
	for _, file := range files {
		lines, err := merchants.ParseAdjustmentsFile(string(file.Data), source)
		var applied []payments.Resource
		if err == nil {
			applied, err = a.merchants.ApplyManagerAdjustments(r.Context(), manager, lines)
		}
		res := map[string]any{"file": file.Name}
		var ue *merchants.UploadError
		switch {
		case errors.As(err, &ue):
			status = http.StatusBadRequest
			bad := make([]any, len(ue.Lines))
			for i, l := range ue.Lines {
				bad[i] = map[string]any{"line": l.Line, "message": l.Message}
			}
			res["status"], res["errors"] = "refused", bad
		case err != nil && apperr.CodeOf(err) == apperr.Invalid:
			status = http.StatusBadRequest
			res["status"], res["errors"] = "refused", []any{map[string]any{"line": 0, "message": apperr.MessageOf(err)}}
		case err != nil:
			a.fail(w, err, 0)
			return
		default:
			ids := make([]any, len(applied))
			for i, adj := range applied {
				ids[i] = adj.ID
			}
			res["status"], res["adjustments"] = "applied", ids
		}
		results = append(results, res)
	}
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"uploads": results})
}
