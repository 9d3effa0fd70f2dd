package merchants

import (
	"context"
	"errors"

	"github.com/poise-payments/poise/internal/apperr"
	"github.com/poise-payments/poise/internal/balances"
	"github.com/poise-payments/poise/internal/payments"
)

// FileOutcome is what one file of an uploaded archive of adjustments did:
// applied whole, or refused whole with every bad line (line 0 stands for
// the file as a whole).
type FileOutcome struct {
	Name    string
	Applied []payments.Resource
	Bad     []LineError
}

// ApplyAdjustmentFiles applies the files of an uploaded archive, each
// whole or not at all, with amounts in the currency of each line's
// balance (ParseAdjustmentsFile): as the marketplace's operator or, when
// manager is set, as that manager, whose lines may name only merchants it
// oversees. refused says whether any file was refused. An error is a
// failure of the upload itself, not a refusal of one of its files.
func (s *Service) ApplyAdjustmentFiles(ctx context.Context, marketplace string, manager *payments.Resource, files []balances.ArchiveFile, source string) (outcomes []FileOutcome, refused bool, err error) {
	for _, f := range files {
		res := FileOutcome{Name: f.Name}
		lines, err := ParseAdjustmentsFile(string(f.Data), source)
		if err == nil {
			if manager != nil {
				res.Applied, err = s.ApplyManagerAdjustments(ctx, *manager, lines)
			} else {
				res.Applied, err = s.ApplyAdjustments(ctx, marketplace, lines)
			}
		}
		var ue *UploadError
		switch {
		case errors.As(err, &ue):
			res.Bad = ue.Lines
		case apperr.Is(err, apperr.Invalid):
			res.Bad = []LineError{{Message: apperr.MessageOf(err)}}
		case err != nil:
			return nil, false, err
		}
		refused = refused || res.Bad != nil
		outcomes = append(outcomes, res)
	}
	return outcomes, refused, nil
}

// Report is a file's outcome as both APIs answer it: its name, "applied"
// with the adjustments' IDs, or "refused" with each bad line.
func (o FileOutcome) Report() map[string]any {
	if o.Bad != nil {
		bad := make([]any, len(o.Bad))
		for i, l := range o.Bad {
			bad[i] = map[string]any{"line": l.Line, "message": l.Message}
		}
		return map[string]any{"file": o.Name, "status": "refused", "errors": bad}
	}
	ids := make([]any, len(o.Applied))
	for i, adj := range o.Applied {
		ids[i] = adj.ID
	}
	return map[string]any{"file": o.Name, "status": "applied", "adjustments": ids}
}
