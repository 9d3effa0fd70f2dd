package achfile

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/moov-io/ach"

	"github.com/poise-payments/poise/internal/apperr"
)

// Limits of a returns file.
const (
	// MaxReturnsFileBytes bounds an uploaded returns file: 94-character
	// records, so about 50,000 returns with their addenda, far more than a
	// day's returns of any marketplace.
	MaxReturnsFileBytes = 10 << 20
	// maxReturnsFileLines bounds what the reader walks through, in step
	// with the byte limit.
	maxReturnsFileLines = MaxReturnsFileBytes / 94
)

// Return is an entry the receiver's bank sent back (addenda 99).
type Return struct {
	// OriginalTrace is the trace number of the entry Poise sent.
	OriginalTrace string
	// Code is the NACHA return reason code, R01 to R85; Reason is NACHA's
	// short title of it.
	Code        string
	Reason      string
	AmountCents int64
}

// Change is a notification of change (addenda 98): the entry went through,
// but the receiver's bank asks that future entries carry corrected data.
type Change struct {
	OriginalTrace string
	// Code is the NACHA change code, C01 to C13; Reason its title.
	Code          string
	Reason        string
	CorrectedData string
}

// Returns is what a returns file says.
type Returns struct {
	Returns []Return
	Changes []Change
}

// ParseReturns reads a returns file: every entry with an addenda 99 is a
// return, every one with an addenda 98 a change. A file that does not read
// or validate as NACHA, or holds a forward entry, is refused whole, so that
// nothing of a file is acted on unless all of it is understood.
func ParseReturns(r io.Reader) (Returns, error) {
	body, err := io.ReadAll(io.LimitReader(r, MaxReturnsFileBytes+1))
	if err != nil {
		return Returns{}, err
	}
	if len(body) > MaxReturnsFileBytes {
		return Returns{}, apperr.WithReason(apperr.Invalid, "ach-file-too-large", "a returns file may be at most %d bytes", MaxReturnsFileBytes)
	}
	rd := ach.NewReader(bytes.NewReader(body))
	rd.SetMaxLines(maxReturnsFileLines)
	f, err := rd.Read()
	if err != nil {
		return Returns{}, apperr.WithReason(apperr.Invalid, "ach-file-not-valid", "the file is not a valid NACHA file: %s", firstLine(err.Error()))
	}
	if err := f.Validate(); err != nil {
		return Returns{}, apperr.WithReason(apperr.Invalid, "ach-file-not-valid", "the file is not a valid NACHA file: %s", firstLine(err.Error()))
	}
	var out Returns
	for _, b := range f.Batches {
		for _, e := range b.GetEntries() {
			switch {
			case e.Addenda99 != nil:
				code := strings.TrimSpace(e.Addenda99.ReturnCode)
				if !isReturnCode(code) {
					return Returns{}, apperr.WithReason(apperr.Invalid, "ach-file-not-valid", "entry %s has return code %q, not one of R01 to R85", e.TraceNumber, code)
				}
				rc := ach.LookupReturnCode(code)
				reason := ""
				if rc != nil {
					reason = rc.Reason
				}
				out.Returns = append(out.Returns, Return{
					OriginalTrace: strings.TrimSpace(e.Addenda99.OriginalTrace),
					Code:          code,
					Reason:        reason,
					AmountCents:   int64(e.Amount),
				})
			case e.Addenda98 != nil:
				code := strings.TrimSpace(e.Addenda98.ChangeCode)
				reason := ""
				if cc := ach.LookupChangeCode(code); cc != nil {
					reason = cc.Reason
				}
				out.Changes = append(out.Changes, Change{
					OriginalTrace: strings.TrimSpace(e.Addenda98.OriginalTrace),
					Code:          code,
					Reason:        reason,
					CorrectedData: strings.TrimSpace(e.Addenda98.CorrectedData),
				})
			default:
				return Returns{}, apperr.WithReason(apperr.Invalid, "ach-file-not-valid", "entry %s is neither a return nor a notification of change", e.TraceNumber)
			}
		}
	}
	return out, nil
}

// isReturnCode accepts R01 to R85.
func isReturnCode(c string) bool {
	var n int
	if len(c) != 3 || c[0] != 'R' {
		return false
	}
	if _, err := fmt.Sscanf(c[1:], "%d", &n); err != nil {
		return false
	}
	return n >= 1 && n <= 85
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	const maxLen = 200
	if len(s) > maxLen {
		s = s[:maxLen]
	}
	return s
}
