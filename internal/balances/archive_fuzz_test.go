package balances

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"os"
	"testing"
	"unicode/utf8"

	"github.com/poise-payments/poise/internal/apperr"
)

// An upload of any bytes is unpacked within the limits or refused as a
// request error; it never panics, whatever a zip or gzip reader meets; a 7z archive is refused.
func FuzzUnpack(f *testing.F) {
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	w, _ := zw.Create("adjustments.tsv")
	w.Write([]byte("credit\tdebit\tid\tmerchant\tbalance\n12.34\t\tX1\tM1\t\n"))
	zw.Close()
	f.Add(zbuf.Bytes())
	var gbuf bytes.Buffer
	gw := gzip.NewWriter(&gbuf)
	gw.Write([]byte("\t1.00\tX2\tM1\tMain USD\n"))
	gw.Close()
	f.Add(gbuf.Bytes())
	if sevenZip, err := os.ReadFile("testdata/adjustments.7z"); err == nil {
		f.Add(sevenZip)
	}
	f.Add([]byte("7z\xbc\xaf\x27\x1c\x00\x04"))
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, body []byte) {
		files, err := Unpack(body)
		if err != nil {
			if apperr.CodeOf(err) != apperr.Invalid {
				t.Fatalf("%v is not a request error", err)
			}
			return
		}
		if len(files) == 0 || len(files) > maxArchiveFiles {
			t.Fatalf("%d files unpacked", len(files))
		}
		total := 0
		for _, file := range files {
			total += len(file.Data)
			if !utf8.ValidString(file.Name) || !utf8.Valid(file.Data) || bytes.IndexByte(file.Data, 0) >= 0 {
				t.Fatalf("file %q unpacked with text that is not UTF-8 or holds a NUL", file.Name)
			}
		}
		if total > maxUnpackedBytes {
			t.Fatalf("unpacked %d bytes, past the limit", total)
		}
	})
}
