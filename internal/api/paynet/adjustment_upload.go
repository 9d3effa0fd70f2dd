package paynet

import (
	"encoding/json"
	"io"
	"net/http"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/balances"
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
	outcomes, refused, err := a.merchants.ApplyAdjustmentFiles(r.Context(), manager.Marketplace, &manager, files, source)
	if err != nil {
		a.fail(w, err, 0)
		return
	}
	results := make([]any, len(outcomes))
	for i, o := range outcomes {
		results[i] = o.Report()
	}
	status := http.StatusCreated
	if refused {
		status = http.StatusBadRequest
	}
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"uploads": results})
}
