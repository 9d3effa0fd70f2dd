package balances

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/poise-payments/poise/internal/apperr"
)

// Archive limits.
const (
	// maxUnpackedBytes bounds what an archive may unpack to, so that a
	// small archive cannot expand into gigabytes.
	maxUnpackedBytes = 16 << 20
	// maxArchiveFiles bounds the files of one archive.
	maxArchiveFiles = 100
)

// ArchiveFile is one file of an uploaded archive.
type ArchiveFile struct {
	Name string
	Data []byte
}

// Unpack reads the files of a zip or gzip archive, told apart by their
// first bytes. 7z archives are refused with a message saying so: no 7z
// reader is among the project's dependencies, and 7-Zip, which the
// merchant balance seed names, writes zip as well.
func Unpack(body []byte) ([]ArchiveFile, error) { return UnpackUpTo(body, maxUnpackedBytes) }

// MaxImportUnpackedBytes bounds what a transactions import unpacks to:
// MaxImportLines lines of a few hundred bytes each.
const MaxImportUnpackedBytes = 64 << 20

// UnpackUpTo is Unpack with a bound of its own on what the archive
// unpacks to.
func UnpackUpTo(body []byte, maxUnpackedBytes int) ([]ArchiveFile, error) {
	bad := apperr.New(apperr.Invalid, "upload a zip or gzip archive of TSV files")
	var out []ArchiveFile
	total := 0
	read := func(name string, r io.Reader) error {
		if len(out) >= maxArchiveFiles {
			return apperr.New(apperr.Invalid, "an archive may hold at most %d files", maxArchiveFiles)
		}
		data, err := io.ReadAll(io.LimitReader(r, int64(maxUnpackedBytes-total)+1))
		if err != nil {
			return bad
		}
		total += len(data)
		if total > maxUnpackedBytes {
			return apperr.New(apperr.Invalid, "the archive unpacks to more than %d bytes", maxUnpackedBytes)
		}
		// Names and IDs in the file become stored text, which a database
		// refuses when it holds a NUL or bytes that are not UTF-8.
		name = strings.ToValidUTF8(strings.ReplaceAll(name, "\x00", ""), "?")
		if !utf8.Valid(data) || bytes.IndexByte(data, 0) >= 0 {
			return apperr.New(apperr.Invalid, "the file %s is not UTF-8 text without NUL characters", name)
		}
		out = append(out, ArchiveFile{name, data})
		return nil
	}
	switch {
	case bytes.HasPrefix(body, []byte("PK\x03\x04")):
		zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
		if err != nil {
			return nil, bad
		}
		for _, f := range zr.File {
			if f.FileInfo().IsDir() {
				continue
			}
			rc, err := f.Open()
			if err != nil {
				return nil, bad
			}
			err = read(f.Name, rc)
			rc.Close()
			if err != nil {
				return nil, err
			}
		}
	case bytes.HasPrefix(body, []byte{0x1f, 0x8b}):
		gr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, bad
		}
		name := gr.Name
		if name == "" {
			name = "adjustments.tsv"
		}
		if err := read(name, gr); err != nil {
			return nil, err
		}
	case bytes.HasPrefix(body, []byte("7z\xbc\xaf\x27\x1c")):
		return nil, apperr.New(apperr.Invalid, "7z archives are not read: archive the TSV files as zip (7-Zip can: choose the zip format) or gzip")
	default:
		return nil, bad
	}
	if len(out) == 0 {
		return nil, apperr.New(apperr.Invalid, "the archive holds no file")
	}
	return out, nil
}
