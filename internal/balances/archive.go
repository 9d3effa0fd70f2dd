package balances

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"io"

	"github.com/bodgit/sevenzip"

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

// Unpack reads the files of a zip, gzip or 7z archive, told apart by their
// first bytes.
func Unpack(body []byte) ([]ArchiveFile, error) {
	bad := apperr.New(apperr.Invalid, "upload a zip, gzip or 7z archive of TSV files")
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
		sr, err := sevenzip.NewReader(bytes.NewReader(body), int64(len(body)))
		if err != nil {
			return nil, bad
		}
		for _, f := range sr.File {
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
	default:
		return nil, bad
	}
	if len(out) == 0 {
		return nil, apperr.New(apperr.Invalid, "the archive holds no file")
	}
	return out, nil
}
