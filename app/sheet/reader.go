package sheet

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"unicode"

	"dealerdesk/app/apperr"
)

// Format is the kind of file a Reader reads.
type Format string

// The formats Open accepts.
const (
	FormatXLSX Format = "xlsx"
	FormatCSV  Format = "csv"
)

// Limits bound what a Reader accepts, so that one upload cannot exhaust the
// server's memory or disk.
type Limits struct {
	MaxRows int // data rows after the header (empty rows not counted)
	MaxCols int // columns holding a value in any row
	// MaxUnzippedBytes bounds the sum of the uncompressed sizes of an .xlsx's parts
	// (a zip bomb is refused before anything is inflated). Worksheets and shared
	// strings above 16 MiB are inflated to temporary files, not to memory.
	MaxUnzippedBytes int64
	// MaxRecordBytes bounds one CSV record (one row, quoted line breaks included).
	MaxRecordBytes int
}

// DefaultLimits suit every import the product has: the largest, a group's customer
// list, has some tens of thousands of rows and a few dozen columns.
var DefaultLimits = Limits{
	MaxRows:          200_000,
	MaxCols:          256,
	MaxUnzippedBytes: 512 << 20,
	MaxRecordBytes:   1 << 20,
}

// Row is one non-empty row of a sheet.
type Row struct {
	Num   int      // 1-based row number as Excel shows it
	Cells []string // trimmed cell values, at least as many as the header has
}

// rowSource yields the rows of a sheet, empty ones included, with their numbers.
type rowSource interface {
	next() (num int, cells []string, err error) // io.EOF at the end
	close() error
}

// Reader reads the rows of the first visible sheet of an .xlsx, or of a CSV file,
// one at a time. It is not safe for concurrent use.
type Reader struct {
	format    Format
	encoding  string
	delimiter rune
	sheet     string
	lim       Limits
	src       rowSource
	header    []string
	headerRow int
	pending   []Row // rows read ahead (title detection, Preview), returned next
	dataRows  int
	err       error // sticky: once reading failed, it keeps failing
}

// Open recognises the file by its content (the name only breaks ties) and reads up
// to its header row: the first non-empty row, or the one after a one-cell title row
// such as "客户名单（2024年3月）". It refuses old binary Excel files
// (sheet.xls_unsupported: save as .xlsx), password-protected workbooks
// (sheet.encrypted) and anything that is neither .xlsx nor text
// (sheet.unsupported). The caller keeps r open until Close.
func Open(r io.ReaderAt, size int64, filename string) (*Reader, error) {
	return OpenWithLimits(r, size, filename, DefaultLimits)
}

// OpenWithLimits is Open with other limits; zero fields take the default.
func OpenWithLimits(r io.ReaderAt, size int64, filename string, lim Limits) (*Reader, error) {
	lim = lim.withDefaults()
	rd := &Reader{lim: lim}
	head := make([]byte, 8)
	n, err := r.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, errCorrupt(err)
	}
	head = head[:n]
	switch {
	case size == 0:
		return nil, errEmpty()
	case bytes.HasPrefix(head, []byte("PK\x03\x04")) || bytes.HasPrefix(head, []byte("PK\x05\x06")):
		zr, err := zip.NewReader(r, size)
		if err != nil {
			return nil, errCorrupt(err)
		}
		if !isXLSX(zr) {
			return nil, errUnsupported()
		}
		src, sheet, err := openXLSX(r, size, zr, lim)
		if err != nil {
			return nil, err
		}
		rd.format, rd.sheet, rd.src = FormatXLSX, sheet, src
	case bytes.Equal(head, cfbSignature):
		// An OLE compound file: Excel 97–2003 (.xls), WPS .et, or an .xlsx that
		// Excel encrypted with a password (it wraps the zip in such a file).
		if isEncryptedOOXML(r, size) {
			return nil, errEncrypted()
		}
		return nil, errXLS()
	default:
		src, enc, delim, err := openCSV(r, size, filename, lim)
		if err != nil {
			return nil, err
		}
		rd.format, rd.encoding, rd.delimiter, rd.src = FormatCSV, enc, delim, src
	}
	if err := rd.readHeader(); err != nil {
		rd.src.close()
		return nil, err
	}
	return rd, nil
}

func (l Limits) withDefaults() Limits {
	if l.MaxRows <= 0 {
		l.MaxRows = DefaultLimits.MaxRows
	}
	if l.MaxCols <= 0 {
		l.MaxCols = DefaultLimits.MaxCols
	}
	if l.MaxUnzippedBytes <= 0 {
		l.MaxUnzippedBytes = DefaultLimits.MaxUnzippedBytes
	}
	if l.MaxRecordBytes <= 0 {
		l.MaxRecordBytes = DefaultLimits.MaxRecordBytes
	}
	return l
}

// cfbSignature starts every OLE compound file.
var cfbSignature = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}

// isXLSX reports whether the zip is an Excel workbook (not a .docx, .ods, .xlsb or
// an arbitrary archive).
func isXLSX(zr *zip.Reader) bool {
	for _, f := range zr.File {
		if strings.EqualFold(strings.ReplaceAll(f.Name, `\`, "/"), "xl/workbook.xml") {
			return true
		}
	}
	return false
}

// isEncryptedOOXML looks for the stream name "EncryptedPackage" (UTF-16LE, as the
// compound file's directory stores it) in the first 16 MiB.
func isEncryptedOOXML(r io.ReaderAt, size int64) bool {
	needle := []byte("E\x00n\x00c\x00r\x00y\x00p\x00t\x00e\x00d\x00P\x00a\x00c\x00k\x00a\x00g\x00e\x00")
	const chunk = 1 << 20
	buf := make([]byte, min(size, chunk+int64(len(needle))))
	for off := int64(0); off < size && off < 16<<20; off += chunk {
		n, err := r.ReadAt(buf, off)
		if bytes.Contains(buf[:n], needle) {
			return true
		}
		if err != nil {
			return false
		}
	}
	return false
}

// readHeader finds the header row, reading ahead as far as the title-row rule
// needs; the rows read ahead stay pending for Next.
func (r *Reader) readHeader() error {
	first, err := r.nextNonEmpty()
	if errors.Is(err, io.EOF) {
		return errEmpty()
	}
	if err != nil {
		return err
	}
	// A one-cell row followed by a wider one is a title above the table
	// ("XX店客户明细表"), not its header. A sheet of one column has no wider row
	// and keeps its first row.
	for skipped := 0; skipped < 3 && nonEmptyCount(first.Cells) == 1; skipped++ {
		second, err := r.nextNonEmpty()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if nonEmptyCount(second.Cells) < 2 {
			r.pending = append(r.pending, second)
			break
		}
		first = second
	}
	r.header, r.headerRow = first.Cells, first.Num
	for i := range r.pending { // a data row read ahead above counts and is padded like any other
		r.dataRows++
		if len(r.pending[i].Cells) < len(r.header) {
			r.pending[i].Cells = append(r.pending[i].Cells, make([]string, len(r.header)-len(r.pending[i].Cells))...)
		}
	}
	return nil
}

// nextNonEmpty returns the next row holding a value, trimmed, with the column
// limit applied.
func (r *Reader) nextNonEmpty() (Row, error) {
	for {
		num, cells, err := r.src.next()
		if err != nil {
			return Row{}, err
		}
		cells = trimCells(cells)
		if len(cells) == 0 {
			continue
		}
		if len(cells) > r.lim.MaxCols {
			return Row{}, errTooManyColumns(r.lim.MaxCols, num)
		}
		return Row{Num: num, Cells: cells}, nil
	}
}

// trimCells trims every cell and drops the empty cells at the end of the row; an
// empty row comes back empty.
func trimCells(cells []string) []string {
	last := -1
	for i, c := range cells {
		c = TrimCell(c)
		cells[i] = c
		if c != "" {
			last = i
		}
	}
	return cells[:last+1]
}

// TrimCell removes the blanks around a cell value: ASCII and full-width spaces,
// tabs and line breaks, no-break and zero-width spaces, and a byte order mark.
func TrimCell(s string) string {
	return strings.TrimFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || r == '\uFEFF' || r == '\u200B'
	})
}

func nonEmptyCount(cells []string) int {
	n := 0
	for _, c := range cells {
		if c != "" {
			n++
		}
	}
	return n
}

// Next returns the next non-empty data row: its 1-based row number as the user sees
// it in Excel, and its trimmed cells, at least as many as the header has (missing
// ones are ""). At the end it returns io.EOF; any other error is an *apperr.Error
// and stays: later calls return it again.
func (r *Reader) Next() (int, []string, error) {
	row, err := r.next()
	return row.Num, row.Cells, err
}

func (r *Reader) next() (Row, error) {
	if len(r.pending) > 0 {
		row := r.pending[0]
		r.pending = r.pending[1:]
		return row, nil
	}
	return r.read()
}

// read takes the next data row from the source, counting it against MaxRows.
func (r *Reader) read() (Row, error) {
	if r.err != nil {
		return Row{}, r.err
	}
	if r.src == nil {
		return Row{}, errors.New("sheet: read after close")
	}
	row, err := r.nextNonEmpty()
	if err != nil {
		if !errors.Is(err, io.EOF) {
			err = apperr.As(err)
		}
		r.err = err
		return Row{}, err
	}
	r.dataRows++
	if r.dataRows > r.lim.MaxRows {
		r.err = errTooManyRows(r.lim.MaxRows)
		return Row{}, r.err
	}
	if len(row.Cells) < len(r.header) {
		row.Cells = append(row.Cells, make([]string, len(r.header)-len(row.Cells))...)
	}
	return row, nil
}

// Preview returns up to n data rows without consuming them: Next returns them
// again, so the import page can show a sample and then import everything.
func (r *Reader) Preview(n int) ([]Row, error) {
	for len(r.pending) < n {
		row, err := r.read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		r.pending = append(r.pending, row)
	}
	out := make([]Row, min(n, len(r.pending)))
	copy(out, r.pending)
	return out, nil
}

// Header returns the header row's trimmed cells; a blank header cell (for example
// the second cell of a merged header) is "".
func (r *Reader) Header() []string { return r.header }

// HeaderRow returns the 1-based row number of the header row.
func (r *Reader) HeaderRow() int { return r.headerRow }

// Format returns FormatXLSX or FormatCSV.
func (r *Reader) Format() Format { return r.format }

// Encoding returns the text encoding of a CSV file: "utf-8", "utf-16le",
// "utf-16be" or "gb18030"; "" for .xlsx.
func (r *Reader) Encoding() string { return r.encoding }

// Delimiter returns the field separator of a CSV file (',', ';' or '\t'); 0 for
// .xlsx.
func (r *Reader) Delimiter() rune { return r.delimiter }

// SheetName returns the name of the worksheet read from an .xlsx; "" for CSV.
func (r *Reader) SheetName() string { return r.sheet }

// Close releases the temporary files of a large .xlsx. It does not close the
// io.ReaderAt given to Open.
func (r *Reader) Close() error {
	if r.src == nil {
		return nil
	}
	err := r.src.close()
	r.src = nil
	return err
}

// ColumnName returns the Excel name of the 0-based column i: A, B, …, Z, AA, … —
// for messages such as "第 12 行 C 列".
func ColumnName(i int) string {
	if i < 0 {
		return ""
	}
	var b []byte
	for i++; i > 0; i = (i - 1) / 26 {
		b = append(b, byte('A'+(i-1)%26))
	}
	for l, r := 0, len(b)-1; l < r; l, r = l+1, r-1 {
		b[l], b[r] = b[r], b[l]
	}
	return string(b)
}

// textExtension reports whether a file of this name may be read as text: CSV and
// plain text, and also .xls/.xlsx, because some portals save a tab-separated text
// file under an Excel name.
func textExtension(filename string) bool {
	switch strings.ToLower(filepath.Ext(filename)) {
	case "", ".csv", ".txt", ".tsv", ".tab", ".xls", ".xlsx":
		return true
	}
	return false
}
