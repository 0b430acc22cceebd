package sheet

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
)

// Kind is the type of an export column: it decides how a value is written and
// shown.
type Kind int

// The column kinds.
const (
	KindText     Kind = iota // any value, written as text
	KindInt                  // integers
	KindMoney                // int64 fen, shown as yuan with 2 decimals
	KindDate                 // time.Time or int64 unix milliseconds, shown 2006-01-02
	KindDateTime             // time.Time or int64 unix milliseconds, shown 2006-01-02 15:04:05
)

// Col describes one export column.
type Col struct {
	Header string
	Width  float64 // in Excel character widths; 0 leaves Excel's default
	// Text forces the text format on a KindText column holding digits — phones, ID
	// numbers, VINs — so that Excel neither shows 1.38E+10 nor drops a landline's
	// leading 0, also after the user edits the cell.
	Text bool
	Kind Kind
}

// maxXLSXRows is Excel's row limit (1,048,576) less the header row.
const maxXLSXRows = 1<<20 - 1

// Writer streams rows to an .xlsx or CSV file; nothing but a small buffer is held
// in memory (an .xlsx beyond 16 MiB of sheet data is staged in a temporary file).
// It is not safe for concurrent use.
type Writer struct {
	cols []Col
	loc  *time.Location
	out  io.Writer
	rows int
	err  error
	done bool

	// .xlsx
	f          *excelize.File
	sw         *excelize.StreamWriter
	colStyle   []int // style of each column's cells
	quoteStyle int   // text style for text that Excel would take for a formula
	cells      []any

	// CSV
	cw     *csv.Writer
	record []string
}

// WriterOption configures a Writer.
type WriterOption func(*Writer)

// WithLocation sets the time zone in which times are written (the store's; the
// default is China Standard Time, UTC+8, which has no daylight saving).
func WithLocation(loc *time.Location) WriterOption {
	return func(w *Writer) {
		if loc != nil {
			w.loc = loc
		}
	}
}

var chinaTime = time.FixedZone("CST", 8*3600)

// NewWriter starts an .xlsx export with one worksheet named sheetName: a bold
// header row that stays in view when scrolling, then one row per Write. Close
// writes the file to w.
func NewWriter(w io.Writer, sheetName string, cols []Col, opts ...WriterOption) (*Writer, error) {
	wr := newWriter(w, cols, opts)
	f := excelize.NewFile()
	wr.f = f
	if err := wr.startXLSX(sheetName); err != nil {
		f.Close()
		return nil, fmt.Errorf("sheet: start xlsx: %w", err)
	}
	return wr, nil
}

// NewCSVWriter starts a CSV export: UTF-8 with a byte order mark and CRLF line
// ends, which Excel opens with Chinese intact, and a header row.
func NewCSVWriter(w io.Writer, cols []Col, opts ...WriterOption) (*Writer, error) {
	wr := newWriter(w, cols, opts)
	if _, err := io.WriteString(w, "\uFEFF"); err != nil {
		return nil, fmt.Errorf("sheet: write csv: %w", err)
	}
	wr.cw = csv.NewWriter(w)
	wr.cw.UseCRLF = true
	wr.record = make([]string, len(cols))
	for i, c := range cols {
		wr.record[i] = csvSafe(c.Header)
	}
	if err := wr.cw.Write(wr.record); err != nil {
		return nil, fmt.Errorf("sheet: write csv: %w", err)
	}
	return wr, nil
}

func newWriter(w io.Writer, cols []Col, opts []WriterOption) *Writer {
	wr := &Writer{cols: cols, loc: chinaTime, out: w}
	for _, o := range opts {
		o(wr)
	}
	return wr
}

func (w *Writer) startXLSX(sheetName string) error {
	f := w.f
	if sheetName == "" {
		sheetName = "Sheet1"
	}
	if err := f.SetSheetName("Sheet1", sheetName); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(sheetName)
	if err != nil {
		return err
	}
	w.sw = sw
	header, err := f.NewStyle(&excelize.Style{
		Font:      &excelize.Font{Bold: true},
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"F2F2F2"}},
		Alignment: &excelize.Alignment{Vertical: "center"},
	})
	if err != nil {
		return err
	}
	text, err := f.NewStyle(&excelize.Style{NumFmt: 49}) // "@"
	if err != nil {
		return err
	}
	w.quoteStyle = text
	formats := map[Kind]string{KindMoney: "#,##0.00", KindDate: "yyyy-mm-dd", KindDateTime: "yyyy-mm-dd hh:mm:ss"}
	w.colStyle = make([]int, len(w.cols))
	for i, c := range w.cols {
		switch {
		case c.Kind == KindText && c.Text:
			w.colStyle[i] = text
		case formats[c.Kind] != "":
			code := formats[c.Kind]
			if w.colStyle[i], err = f.NewStyle(&excelize.Style{CustomNumFmt: &code}); err != nil {
				return err
			}
		}
		if c.Width > 0 {
			if err := sw.SetColWidth(i+1, i+1, c.Width); err != nil {
				return err
			}
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	w.cells = make([]any, len(w.cols))
	for i, c := range w.cols {
		w.cells[i] = excelize.Cell{StyleID: header, Value: c.Header}
	}
	return sw.SetRow("A1", w.cells, excelize.RowOpts{Height: 20})
}

// Write adds one row: one value per column, nil for an empty cell. Accepted
// values: any for KindText (strings as they are, other values formatted with
// fmt); integers for KindInt; integers in fen for KindMoney; time.Time or int64
// unix milliseconds for KindDate and KindDateTime (zero time.Time is empty).
// Pointers to these are followed, nil pointers are empty.
func (w *Writer) Write(values ...any) error {
	if w.err != nil {
		return w.err
	}
	if w.done {
		return fmt.Errorf("sheet: write after close")
	}
	if len(values) != len(w.cols) {
		return fmt.Errorf("sheet: write %d values to %d columns", len(values), len(w.cols))
	}
	w.rows++
	if w.cw != nil {
		w.err = w.writeCSV(values)
		return w.err
	}
	if w.rows > maxXLSXRows {
		w.err = errTooManyRows(maxXLSXRows)
		return w.err
	}
	w.err = w.writeXLSX(values)
	return w.err
}

func (w *Writer) writeXLSX(values []any) error {
	for i, v := range values {
		c := w.cols[i]
		v, err := cellValue(c.Kind, v, w.loc)
		if err != nil {
			return fmt.Errorf("sheet: row %d column %q: %w", w.rows, c.Header, err)
		}
		style := w.colStyle[i]
		if s, ok := v.(string); ok && style == 0 && formulaLike(s) {
			// Strings are written as inline-string cells, which Excel never
			// evaluates; the text format also keeps "=…" text when the user
			// edits the cell.
			style = w.quoteStyle
		}
		switch {
		case v == nil:
			w.cells[i] = nil
		case style != 0:
			w.cells[i] = excelize.Cell{StyleID: style, Value: v}
		default:
			w.cells[i] = v
		}
	}
	cell, err := excelize.CoordinatesToCellName(1, w.rows+1)
	if err != nil {
		return fmt.Errorf("sheet: %w", err)
	}
	if err := w.sw.SetRow(cell, w.cells); err != nil {
		return fmt.Errorf("sheet: write row %d: %w", w.rows, err)
	}
	return nil
}

func (w *Writer) writeCSV(values []any) error {
	for i, v := range values {
		c := w.cols[i]
		s, err := csvValue(c, v, w.loc)
		if err != nil {
			return fmt.Errorf("sheet: row %d column %q: %w", w.rows, c.Header, err)
		}
		w.record[i] = s
	}
	if err := w.cw.Write(w.record); err != nil {
		return fmt.Errorf("sheet: write csv: %w", err)
	}
	return nil
}

// Close finishes the file. For .xlsx this is when the file is written to w. Close
// after a failed Write releases what the Writer holds and returns the error.
func (w *Writer) Close() error {
	if w.done {
		return w.err
	}
	w.done = true
	if w.cw != nil {
		w.cw.Flush()
		if err := w.cw.Error(); err != nil && w.err == nil {
			w.err = fmt.Errorf("sheet: write csv: %w", err)
		}
		return w.err
	}
	defer w.f.Close() // removes the temporary file of a large sheet
	if w.err != nil {
		return w.err
	}
	if err := w.sw.Flush(); err != nil {
		w.err = fmt.Errorf("sheet: flush xlsx: %w", err)
		return w.err
	}
	if _, err := w.f.WriteTo(w.out); err != nil {
		w.err = fmt.Errorf("sheet: write xlsx: %w", err)
	}
	return w.err
}

// cellValue converts a Write value to what the .xlsx cell holds: string, int64,
// float64 (money in yuan), time.Time (wall clock in loc) or nil.
func cellValue(kind Kind, v any, loc *time.Location) (any, error) {
	v = deref(v)
	if v == nil {
		return nil, nil
	}
	switch kind {
	case KindInt:
		n, ok := toInt64(v)
		if !ok {
			return nil, fmt.Errorf("%T is not an integer", v)
		}
		return n, nil
	case KindMoney:
		fen, ok := toInt64(v)
		if !ok {
			return nil, fmt.Errorf("%T is not an amount in fen", v)
		}
		// exact for every amount below 2^53 fen; the cell shows 2 decimals
		return float64(fen) / 100, nil
	case KindDate, KindDateTime:
		t, ok, err := toTime(v, loc)
		if err != nil || !ok {
			return nil, err
		}
		if kind == KindDate {
			t = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
		}
		return t, nil
	}
	return textOf(v), nil
}

// csvValue formats a Write value for a CSV cell.
func csvValue(c Col, v any, loc *time.Location) (string, error) {
	v = deref(v)
	if v == nil {
		return "", nil
	}
	switch c.Kind {
	case KindInt:
		n, ok := toInt64(v)
		if !ok {
			return "", fmt.Errorf("%T is not an integer", v)
		}
		return strconv.FormatInt(n, 10), nil
	case KindMoney:
		fen, ok := toInt64(v)
		if !ok {
			return "", fmt.Errorf("%T is not an amount in fen", v)
		}
		return formatFen(fen), nil
	case KindDate, KindDateTime:
		t, ok, err := toTime(v, loc)
		if err != nil || !ok {
			return "", err
		}
		if c.Kind == KindDate {
			return t.Format(time.DateOnly), nil
		}
		return t.Format(time.DateTime), nil
	}
	s := textOf(v)
	if c.Text && longDigits(s) {
		// A CSV cannot carry a cell format. A tab after the digits makes Excel keep
		// them as text (no 1.38E+10, no lost leading 0); Reader trims it.
		return s + "\t", nil
	}
	return csvSafe(s), nil
}

// formatFen writes fen as yuan with 2 decimals, exactly: -1234567 → -12345.67.
func formatFen(fen int64) string {
	sign := ""
	u := uint64(fen)
	if fen < 0 {
		sign, u = "-", uint64(-fen) // -MinInt64 wraps to itself, which as uint64 is its magnitude
	}
	return fmt.Sprintf("%s%d.%02d", sign, u/100, u%100)
}

// formulaLike reports whether Excel would read s as a formula (or a DDE command)
// if it were typed in: it starts with = + - @, a full-width one, or a tab or CR
// that hides one.
func formulaLike(s string) bool {
	if s == "" {
		return false
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return true
	}
	for _, p := range []string{"＝", "＋", "－", "＠"} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// csvSafe neutralises CSV/formula injection: a cell Excel would evaluate gets a
// leading apostrophe, which Excel shows as text.
func csvSafe(s string) string {
	if formulaLike(s) {
		return "'" + s
	}
	return s
}

// longDigits reports whether s is a run of digits Excel would mangle as a number:
// 12 or more digits (shown in scientific notation, precision lost beyond 15) or any
// with a leading 0 (lost), or an 11-digit mobile number.
func longDigits(s string) bool {
	if len(s) < 2 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return len(s) >= 11 || s[0] == '0'
}

func deref(v any) any {
	switch p := v.(type) {
	case *string:
		if p == nil {
			return nil
		}
		return *p
	case *int:
		if p == nil {
			return nil
		}
		return *p
	case *int64:
		if p == nil {
			return nil
		}
		return *p
	case *time.Time:
		if p == nil {
			return nil
		}
		return *p
	}
	return v
}

func toInt64(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int8:
		return int64(n), true
	case int16:
		return int64(n), true
	case int32:
		return int64(n), true
	case int64:
		return n, true
	case uint8:
		return int64(n), true
	case uint16:
		return int64(n), true
	case uint32:
		return int64(n), true
	case uint:
		if uint64(n) > 1<<63-1 {
			return 0, false
		}
		return int64(n), true
	case uint64:
		if n > 1<<63-1 {
			return 0, false
		}
		return int64(n), true
	}
	return 0, false
}

// toTime reads a time.Time or int64 unix milliseconds (how the database keeps
// times) in loc; ok is false for a zero time.Time, which is written empty.
func toTime(v any, loc *time.Location) (time.Time, bool, error) {
	switch t := v.(type) {
	case time.Time:
		if t.IsZero() {
			return time.Time{}, false, nil
		}
		return t.In(loc), true, nil
	case int64:
		return time.UnixMilli(t).In(loc), true, nil
	}
	return time.Time{}, false, fmt.Errorf("%T is not a time", v)
}

func textOf(v any) string {
	switch s := v.(type) {
	case string:
		return s
	case []byte:
		return string(s)
	case fmt.Stringer:
		return s.String()
	case int64:
		return strconv.FormatInt(s, 10)
	case int:
		return strconv.Itoa(s)
	case float64:
		return strconv.FormatFloat(s, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}
