package sheet

import (
	"archive/zip"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
)

const (
	// xmlInMemoryBytes is excelize's UnzipXMLSizeLimit: a worksheet or shared-string
	// table larger than this is inflated to a temporary file and read from there.
	xmlInMemoryBytes = 16 << 20
	// maxInMemoryParts bounds the parts excelize keeps in memory (everything but
	// large worksheets and shared strings: styles, drawings, images…).
	maxInMemoryParts = 128 << 20
)

// openXLSX checks the zip's declared sizes, opens it with excelize and positions a
// row iterator on the first visible worksheet.
func openXLSX(ra io.ReaderAt, size int64, zr *zip.Reader, lim Limits) (src rowSource, sheet string, err error) {
	// The sizes in the zip directory are what excelize budgets with, and Go's
	// archive/zip refuses to inflate an entry beyond its declared size, so
	// checking them here stops a zip bomb before anything is inflated.
	xmlLimit := min(xmlInMemoryBytes, lim.MaxUnzippedBytes) // excelize wants it ≤ UnzipSizeLimit
	var total, inMemory uint64
	for _, f := range zr.File {
		total += f.UncompressedSize64
		name := strings.ToLower(strings.ReplaceAll(f.Name, `\`, "/"))
		spills := (strings.HasPrefix(name, "xl/worksheets/sheet") || name == "xl/sharedstrings.xml") &&
			f.UncompressedSize64 > uint64(xmlLimit)
		if !spills {
			inMemory += f.UncompressedSize64
		}
	}
	if total > uint64(lim.MaxUnzippedBytes) || inMemory > maxInMemoryParts {
		return nil, "", errTooLarge(fmt.Errorf("sheet: xlsx inflates to %d bytes, %d of them in memory", total, inMemory))
	}
	// excelize is a large parser of untrusted input; a panic in it must end this
	// import, not the server.
	var f *excelize.File
	defer func() {
		if p := recover(); p != nil {
			if f != nil {
				f.Close()
			}
			src, sheet, err = nil, "", errCorrupt(fmt.Errorf("sheet: excelize panic: %v", p))
		}
	}()
	// excelize has no io.ReaderAt entry point and reads the compressed file into
	// memory; the upload size limit of the HTTP layer bounds that copy.
	f, err = excelize.OpenReader(io.NewSectionReader(ra, 0, size), excelize.Options{
		UnzipSizeLimit:    lim.MaxUnzippedBytes,
		UnzipXMLSizeLimit: xmlLimit,
	})
	if err != nil {
		if f != nil {
			f.Close()
		}
		if strings.Contains(err.Error(), "unzip size") {
			return nil, "", errTooLarge(err)
		}
		return nil, "", errCorrupt(err)
	}
	for _, name := range f.GetSheetList() {
		if visible, err := f.GetSheetVisible(name); err == nil && visible {
			sheet = name
			break
		}
	}
	if sheet == "" {
		f.Close()
		return nil, "", errEmpty()
	}
	normalizeNumberFormats(f)
	rows, err := f.Rows(sheet)
	if err != nil {
		f.Close()
		return nil, "", errCorrupt(err)
	}
	date1904 := f.WorkBook != nil && f.WorkBook.WorkbookPr != nil && f.WorkBook.WorkbookPr.Date1904
	return &xlsxSource{f: f, rows: rows, date1904: date1904}, sheet, nil
}

// xlsxSource iterates a worksheet with excelize's streaming Rows.
type xlsxSource struct {
	f        *excelize.File
	rows     *excelize.Rows
	row      int
	date1904 bool // the workbook counts days from 1904 (old Mac Excel)
}

func (s *xlsxSource) next() (num int, cells []string, err error) {
	defer func() {
		if p := recover(); p != nil {
			num, cells, err = 0, nil, errCorrupt(fmt.Errorf("sheet: excelize panic: %v", p))
		}
	}()
	// Rows.Next steps one row number at a time, also over the numbers the file
	// leaves out, so counting calls gives the row number Excel shows.
	if !s.rows.Next() {
		if err := s.rows.Error(); err != nil {
			return 0, nil, errCorrupt(err) // e.g. a row number beyond Excel's 1,048,576
		}
		return 0, nil, io.EOF
	}
	s.row++
	cells, err = s.rows.Columns()
	if err != nil {
		return 0, nil, withRow(errCorrupt(err), s.row)
	}
	for i, c := range cells {
		cells[i] = cellText(c, s.date1904)
	}
	return s.row, cells, nil
}

func (s *xlsxSource) close() error {
	err := s.rows.Close()
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// excelize writes a number with more than 15 significant digits in Go's %G form
// (1.1010519491231E+17); such a number is an ID or account typed into a number
// cell, which Excel itself shows to 15 digits, so it is given back in full
// positional form.
var scientific = regexp.MustCompile(`^-?[0-9](\.[0-9]+)?E[+-][0-9]{2,3}$`)

func plainNumber(s string) string {
	if len(s) < 5 || !strings.Contains(s, "E") || !scientific.MatchString(s) {
		return s
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return s
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// numberKind is what a cell's number format makes of a number.
type numberKind int

const (
	numPlain numberKind = iota
	numDate
	numDateTime
	numTime
)

// plainNumFmt is a number format ID the workbook does not define: excelize gives
// the value of a cell with such a format as it is, without formatting it.
const plainNumFmt = 1 << 20

// dateMarkers start the formatted value of a cell whose format shows a date or a
// time: a control character, which cell text does not hold (XML 1.0 cannot carry
// it; a cell escaping one as _x0001_ would at worst be read as a date), then the
// serial number, which cellText turns into text.
var dateMarkers = map[numberKind]string{numDate: "\x01", numDateTime: "\x02", numTime: "\x03"}

// normalizeNumberFormats rewrites, in the opened workbook's memory only, the number
// format of every cell style, because excelize's Rows iterator gives a cell's
// formatted value but not its style, and an import needs neither the author's
// display (¥1,234.50, 1.38E+10, 2024年3月5日) nor excelize's slow date formatting:
//   - a format showing a number becomes plainNumFmt, so the value comes as it is
//     (1234.5, 13800138000);
//   - a format showing a date, date-time or time becomes a marker and the serial
//     number with 8 decimals (under a millisecond), turned into 2006-01-02,
//     2006-01-02 15:04:05 or 15:04:05 by cellText.
func normalizeNumberFormats(f *excelize.File) {
	ss := f.Styles
	if ss == nil || ss.CellXfs == nil {
		return
	}
	custom := map[int]string{}
	if ss.NumFmts != nil {
		for _, nf := range ss.NumFmts.NumFmt {
			if nf == nil {
				continue
			}
			code := nf.FormatCode
			if nf.FormatCode16 != "" {
				code = nf.FormatCode16
			}
			custom[nf.NumFmtID] = code
		}
	}
	n := len(ss.CellXfs.Xf)
	kinds := make([]numberKind, n)
	for i := range n {
		id := 0
		if p := ss.CellXfs.Xf[i].NumFmtID; p != nil {
			id = *p
		}
		if code, ok := custom[id]; ok {
			kinds[i] = formatCodeKind(code)
		} else {
			kinds[i] = builtinFormatKind(id)
		}
	}
	formats := map[numberKind]int{numPlain: plainNumFmt}
	for kind, marker := range dateMarkers {
		code := `"` + marker + `"0.00000000`
		style, err := f.NewStyle(&excelize.Style{CustomNumFmt: &code})
		if err != nil || style >= len(ss.CellXfs.Xf) || ss.CellXfs.Xf[style].NumFmtID == nil {
			return // a workbook at excelize's style limit: values come as displayed
		}
		formats[kind] = *ss.CellXfs.Xf[style].NumFmtID
	}
	for i := range n {
		id := formats[kinds[i]]
		ss.CellXfs.Xf[i].NumFmtID = &id
	}
}

// cellText turns a value from excelize into the cell's text: a marked serial
// number into a date or time, a number in scientific notation into digits.
func cellText(s string, date1904 bool) string {
	if s == "" {
		return s
	}
	var kind numberKind
	switch s[0] {
	case '\x01':
		kind = numDate
	case '\x02':
		kind = numDateTime
	case '\x03':
		kind = numTime
	default:
		return plainNumber(s)
	}
	v, err := strconv.ParseFloat(s[1:], 64)
	if err != nil {
		return s // not a marked number after all: text in a date-formatted cell
	}
	// Excel's dates run from 1900-01-01 (serial 1) to 9999-12-31 (2958465)
	if v < 0 || v >= 2958466 {
		return plainNumber(strconv.FormatFloat(v, 'f', -1, 64))
	}
	t, err := excelize.ExcelDateToTime(v, date1904)
	if err != nil {
		return plainNumber(strconv.FormatFloat(v, 'f', -1, 64))
	}
	t = t.Round(time.Second)
	switch kind {
	case numDate:
		return t.Format(time.DateOnly)
	case numDateTime:
		return t.Format(time.DateTime)
	}
	return t.Format(time.TimeOnly)
}

// builtinFormatKind classifies Excel's built-in number formats, including the
// CJK ones (27–36, 50–58) Chinese Excel uses for 年月日 dates and 时分 times.
func builtinFormatKind(id int) numberKind {
	switch {
	case id >= 14 && id <= 17, id >= 27 && id <= 31, id == 36, id >= 50 && id <= 54, id == 57, id == 58:
		return numDate
	case id == 22:
		return numDateTime
	case id >= 18 && id <= 21, id >= 32 && id <= 35, id == 45, id == 47, id == 55, id == 56:
		return numTime
	}
	return numPlain // 46 "[h]:mm:ss" is a duration, left a number of days
}

// formatCodeKind classifies a custom number format by the date and time tokens of
// its first section, ignoring quoted text, escapes, colours and locale tags.
func formatCodeKind(code string) numberKind {
	var b strings.Builder
	inQuote := false
	for i := 0; i < len(code); i++ {
		c := code[i]
		switch {
		case inQuote:
			if c == '"' {
				inQuote = false
			}
		case c == '"':
			inQuote = true
		case c == '\\' || c == '_' || c == '*':
			i++ // escaped, padding or fill character
		case c == '[':
			end := strings.IndexByte(code[i:], ']')
			if end < 0 {
				return numPlain
			}
			switch strings.ToLower(code[i+1 : i+end]) {
			case "h", "hh", "m", "mm", "s", "ss":
				return numPlain // an elapsed duration such as [h]:mm
			}
			i += end
		case c == ';':
			i = len(code) // only the first section decides
		default:
			b.WriteByte(c | 0x20) // ASCII lower case; other bytes never match below
		}
	}
	s := b.String()
	for _, drop := range []string{"general", "am/pm", "a/p", "e+", "e-"} {
		s = strings.ReplaceAll(s, drop, "")
	}
	hasDate := strings.ContainsAny(s, "yd")
	hasTime := strings.ContainsAny(s, "hs")
	switch {
	case hasDate && hasTime:
		return numDateTime
	case hasDate:
		return numDate
	case hasTime:
		return numTime
	case strings.Contains(s, "m"):
		return numDate // "mmm" or "mmmm": a month
	}
	return numPlain
}
