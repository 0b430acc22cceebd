package sheet

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

const (
	// sniffBytes is the sample that decides binary or text, markup, and the delimiter.
	sniffBytes = 64 << 10
	// utf8ScanBytes is how much of a file must be valid UTF-8 for it to be read as
	// UTF-8 rather than GB18030: a GBK export often has only ASCII in its first
	// rows and Chinese further down, so a sample is not enough.
	utf8ScanBytes = 64 << 20
	// recordSlack covers what the CSV parser and the decoder buffer ahead of the
	// record they are reading.
	recordSlack = 64 << 10
)

var errRecordTooLarge = errors.New("sheet: csv record too large")

// openCSV decides the encoding and the delimiter of a text file and returns its
// rows.
func openCSV(ra io.ReaderAt, size int64, filename string, lim Limits) (rowSource, string, rune, error) {
	sample := make([]byte, min(size, sniffBytes))
	n, err := ra.ReadAt(sample, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, "", 0, errCorrupt(err)
	}
	sample = sample[:n]

	enc, skip := "utf-8", int64(0)
	switch {
	case bytes.HasPrefix(sample, []byte{0xEF, 0xBB, 0xBF}):
		skip = 3
	case bytes.HasPrefix(sample, []byte{0xFF, 0xFE}):
		// Excel's "Unicode text" export: UTF-16LE with BOM, tab-separated
		enc, skip = "utf-16le", 2
	case bytes.HasPrefix(sample, []byte{0xFE, 0xFF}):
		enc, skip = "utf-16be", 2
	case bytes.IndexByte(sample, 0) >= 0:
		return nil, "", 0, errUnsupported() // NUL bytes: binary, and not UTF-16 with a BOM
	case !isUTF8(ra, size):
		// Excel on Chinese Windows saves "CSV (逗号分隔)" in the ANSI code page, GBK;
		// GB18030 is its superset.
		enc = "gb18030"
	}
	text := string(sample[skip:])
	if enc != "utf-8" {
		b, _, _ := transform.Bytes(decoderFor(enc), sample[skip:])
		text = string(b)
	}
	if looksLikeMarkup(text) {
		// An HTML table or an Excel 2003 XML file, which web systems like to save
		// as .xls: Excel opens it, so the user can save it as .xlsx.
		if strings.EqualFold(filepath.Ext(filename), ".xls") {
			return nil, "", 0, errXLS()
		}
		return nil, "", 0, errUnsupported()
	}
	if !textExtension(filename) || looksBinary(text) {
		return nil, "", 0, errUnsupported()
	}

	limiter := &recordLimiter{r: io.NewSectionReader(ra, skip, size-skip), limit: lim.MaxRecordBytes + recordSlack}
	var body io.Reader = limiter
	if enc != "utf-8" {
		body = transform.NewReader(body, decoderFor(enc))
	}
	if strings.IndexByte(text, '\r') >= 0 && strings.IndexByte(text, '\n') < 0 {
		body = crToLF{body} // classic Mac line endings
		text = strings.ReplaceAll(text, "\r", "\n")
	}
	br := bufio.NewReader(body)
	delim, sepLine := sniffDelimiter(text, int64(len(sample)) < size)
	if sepLine {
		// Excel's "sep=;" hint line: Excel hides it, so it has no row number
		if _, err := br.ReadString('\n'); err != nil && !errors.Is(err, io.EOF) {
			return nil, "", 0, csvErr(err, 0)
		}
	}
	cr := csv.NewReader(br)
	cr.Comma = delim
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true // hand-edited files have stray quotes; keep them as text
	return &csvSource{r: cr, limiter: limiter}, enc, delim, nil
}

// decoderFor returns a new decoder for a non-UTF-8 encoding openCSV detected.
func decoderFor(enc string) *encoding.Decoder {
	switch enc {
	case "utf-16le":
		return unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM).NewDecoder()
	case "utf-16be":
		return unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM).NewDecoder()
	}
	return simplifiedchinese.GB18030.NewDecoder()
}

// isUTF8 reports whether the first utf8ScanBytes of the file are valid UTF-8.
func isUTF8(ra io.ReaderAt, size int64) bool {
	const chunk = 1 << 20
	buf := make([]byte, min(size, chunk)+utf8.UTFMax)
	carry := 0
	for off := int64(0); off < size && off < utf8ScanBytes; {
		n, err := ra.ReadAt(buf[carry:len(buf)-utf8.UTFMax+carry], off)
		off += int64(n)
		b := buf[:carry+n]
		end := len(b)
		if off < size && err == nil {
			// keep a rune cut by the chunk boundary for the next round
			for i := 1; i < utf8.UTFMax && i <= len(b); i++ {
				if utf8.RuneStart(b[len(b)-i]) {
					if !utf8.FullRune(b[len(b)-i:]) {
						end = len(b) - i
					}
					break
				}
			}
		}
		if !utf8.Valid(b[:end]) {
			return false
		}
		carry = copy(buf, b[end:])
		if err != nil || n == 0 {
			break
		}
	}
	return true
}

// looksLikeMarkup reports whether the text is HTML or XML rather than CSV.
func looksLikeMarkup(text string) bool {
	t := strings.TrimLeft(text, " \t\r\n\uFEFF")
	if !strings.HasPrefix(t, "<") {
		return false
	}
	head := strings.ToLower(t[:min(len(t), 4096)])
	for _, tag := range []string{"<html", "<!doctype", "<?xml", "<table", "<meta", "<head", "<style", "<body", "<workbook"} {
		if strings.Contains(head, tag) {
			return true
		}
	}
	return false
}

// looksBinary reports whether decoded text holds control characters or undecodable
// bytes that no spreadsheet export contains.
func looksBinary(text string) bool {
	bad, total := 0, 0
	for _, r := range text {
		total++
		switch {
		case r == 0:
			return true
		case r < 0x20 && r != '\t' && r != '\n' && r != '\r' && r != '\f' && r != 0x1A:
			bad++
		case r == utf8.RuneError:
			bad++
		}
	}
	return bad > 0 && bad*50 > total
}

// sniffDelimiter picks the separator that splits the first lines most
// consistently: comma, semicolon (Excel in European locales) or tab (Excel's
// "text" export, many portals). A first line "sep=;" decides by itself.
func sniffDelimiter(text string, truncated bool) (delim rune, sepLine bool) {
	if rest, ok := strings.CutPrefix(text, "sep="); ok && len(rest) > 0 {
		d, size := utf8.DecodeRuneInString(rest)
		if after := strings.TrimLeft(rest[size:], "\r"); (strings.HasPrefix(after, "\n") || after == "") && validDelimiter(d) {
			return d, true
		}
	}
	candidates := []rune{',', '\t', ';'}
	var counts [3][]int // per candidate, its count on each line with content
	var line [3]int
	inQuotes, content, lines := false, false, 0
	endLine := func() {
		if content {
			for i := range candidates {
				counts[i] = append(counts[i], line[i])
			}
			lines++
		}
		line, content = [3]int{}, false
	}
	for _, r := range text {
		switch {
		case r == '"':
			inQuotes = !inQuotes
			content = true
		case inQuotes:
		case r == '\n':
			endLine()
		default:
			for i, c := range candidates {
				if r == c {
					line[i]++
				}
			}
			if r != '\r' && r != ' ' {
				content = true
			}
		}
		if lines >= 50 {
			break
		}
	}
	if !truncated { // the last line is complete only when the sample is the whole file
		endLine()
	}
	best, bestConsistency, bestMode := ',', -1.0, 0
	for i, c := range candidates {
		mode, consistency := modeOf(counts[i])
		if mode == 0 {
			continue
		}
		if consistency > bestConsistency || (consistency == bestConsistency && mode > bestMode) {
			best, bestConsistency, bestMode = c, consistency, mode
		}
	}
	return best, false
}

func validDelimiter(r rune) bool {
	return r != '"' && r != '\r' && r != '\n' && r != utf8.RuneError && r != 0 && utf8.ValidRune(r)
}

// modeOf returns the most frequent non-zero count among lines that have any
// content, and the share of those lines having exactly that count.
func modeOf(counts []int) (int, float64) {
	freq := map[int]int{}
	for _, c := range counts {
		if c > 0 {
			freq[c]++
		}
	}
	mode, best := 0, 0
	for c, f := range freq {
		if f > best || (f == best && c > mode) {
			mode, best = c, f
		}
	}
	if len(counts) == 0 {
		return 0, 0
	}
	return mode, float64(best) / float64(len(counts))
}

// csvSource yields CSV records with the row numbers Excel would show: Excel shows
// blank lines as rows and a record with quoted line breaks as one row.
type csvSource struct {
	r       *csv.Reader
	limiter *recordLimiter
	row     int
	prevEnd int // line on which the previous record ended
}

func (s *csvSource) next() (int, []string, error) {
	s.limiter.n = 0
	rec, err := s.r.Read()
	if errors.Is(err, io.EOF) {
		return 0, nil, io.EOF
	}
	if err != nil {
		return 0, nil, csvErr(err, s.row+1)
	}
	start, _ := s.r.FieldPos(0)
	end, _ := s.r.FieldPos(len(rec) - 1)
	end += strings.Count(rec[len(rec)-1], "\n")
	s.row += start - s.prevEnd
	s.prevEnd = end
	return s.row, rec, nil
}

func (s *csvSource) close() error { return nil }

func csvErr(err error, row int) error {
	if errors.Is(err, errRecordTooLarge) {
		return withRow(errTooLarge(err), row)
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return withRow(errCorrupt(err), row)
	}
	return errCorrupt(err)
}

// recordLimiter fails once more than limit bytes were read since n was reset, so
// that one endless line or unterminated quote cannot grow a record without bound.
type recordLimiter struct {
	r        io.Reader
	n, limit int
}

func (l *recordLimiter) Read(p []byte) (int, error) {
	if l.n > l.limit {
		return 0, errRecordTooLarge
	}
	n, err := l.r.Read(p)
	l.n += n
	return n, err
}

// crToLF turns classic Mac line endings (CR alone) into LF.
type crToLF struct{ r io.Reader }

func (c crToLF) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	for i := range p[:n] {
		if p[i] == '\r' {
			p[i] = '\n'
		}
	}
	return n, err
}
