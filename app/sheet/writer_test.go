package sheet_test

import (
	"bytes"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"dealerdesk/app/sheet"
)

var exportCols = []sheet.Col{
	{Header: "客户姓名", Width: 12},
	{Header: "手机", Width: 14, Text: true},
	{Header: "身份证号", Width: 20, Text: true},
	{Header: "跟进次数", Kind: sheet.KindInt},
	{Header: "成交金额（元）", Kind: sheet.KindMoney},
	{Header: "到店日期", Kind: sheet.KindDate},
	{Header: "创建时间", Kind: sheet.KindDateTime},
	{Header: "备注"},
}

var shanghai = time.FixedZone("CST", 8*3600)

// exportRow is the i-th generated row and the cells Reader must give back for it.
func exportRow(i int) ([]any, []string) {
	created := time.Date(2024, 1, 1, 9, 0, 0, 0, shanghai).Add(time.Duration(i) * 37 * time.Minute)
	fen := int64(i*1999 - 500_000) // negative amounts too
	notes := []string{"", "多行\n备注", "=HYPERLINK(\"http://x\")", "+86 138", "-", "@home", "普通备注"}[i%7]
	in := []any{
		fmt.Sprintf("客户%05d", i),
		fmt.Sprintf("138%08d", i),
		fmt.Sprintf("11010519491231%03dX", i%1000),
		i % 13,
		fen,
		created.UnixMilli(), // the database keeps unix milliseconds
		created,
		notes,
	}
	yuan := strconv.FormatFloat(float64(fen)/100, 'f', -1, 64) // General form: 1234.5, -250
	out := []string{
		fmt.Sprintf("客户%05d", i),
		fmt.Sprintf("138%08d", i),
		fmt.Sprintf("11010519491231%03dX", i%1000),
		fmt.Sprint(i % 13),
		yuan,
		created.Format(time.DateOnly),
		created.Format(time.DateTime),
		sheet.TrimCell(notes),
	}
	return in, out
}

func TestWriter_XLSXRoundTrip10k(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	w, err := sheet.NewWriter(&buf, "客户", exportCols, sheet.WithLocation(shanghai))
	if err != nil {
		t.Fatal(err)
	}
	const n = 10_000
	for i := range n {
		in, _ := exportRow(i)
		if err := w.Write(in...); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := sheet.Open(bytes.NewReader(buf.Bytes()), int64(buf.Len()), "export.xlsx")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	wantHeader := make([]string, len(exportCols))
	for i, c := range exportCols {
		wantHeader[i] = c.Header
	}
	if !reflect.DeepEqual(r.Header(), wantHeader) || r.SheetName() != "客户" {
		t.Fatalf("header %q sheet %q", r.Header(), r.SheetName())
	}
	rows := readAll(t, r)
	if len(rows) != n {
		t.Fatalf("read %d rows, want %d", len(rows), n)
	}
	for i, row := range rows {
		_, want := exportRow(i)
		want = trimTrailing(want)
		if row.Num != i+2 || !reflect.DeepEqual(trimTrailing(row.Cells), want) {
			t.Fatalf("row %d:\n got %d %q\nwant %d %q", i, row.Num, row.Cells, i+2, want)
		}
	}
}

func TestWriter_CSVRoundTrip10k(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	w, err := sheet.NewCSVWriter(&buf, exportCols, sheet.WithLocation(shanghai))
	if err != nil {
		t.Fatal(err)
	}
	const n = 10_000
	for i := range n {
		in, _ := exportRow(i)
		if err := w.Write(in...); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(buf.Bytes(), []byte("\uFEFF客户姓名,")) {
		t.Fatalf("CSV starts %q; want a UTF-8 BOM then the header", buf.Bytes()[:20])
	}
	r, err := sheet.Open(bytes.NewReader(buf.Bytes()), int64(buf.Len()), "export.csv")
	if err != nil {
		t.Fatal(err)
	}
	rows := readAll(t, r)
	if len(rows) != n {
		t.Fatalf("read %d rows, want %d", len(rows), n)
	}
	line := 2
	for i, row := range rows {
		_, want := exportRow(i)
		// CSV keeps amounts with 2 decimals and escapes formula-like notes
		in, _ := exportRow(i)
		want[4] = fmt.Sprintf("%.2f", float64(in[4].(int64))/100)
		if strings.ContainsAny(want[7][:min(1, len(want[7]))], "=+-@") {
			want[7] = "'" + want[7]
		}
		if row.Num != line || !reflect.DeepEqual(row.Cells, want) {
			t.Fatalf("row %d:\n got %d %q\nwant %d %q", i, row.Num, row.Cells, line, want)
		}
		line++
	}
}

func trimTrailing(cells []string) []string {
	for len(cells) > 0 && cells[len(cells)-1] == "" {
		cells = cells[:len(cells)-1]
	}
	return cells
}

func TestWriter_XLSXNeverWritesAFormula(t *testing.T) {
	t.Parallel()
	payloads := []string{"=1+1", "=cmd|' /C calc'!A0", "+SUM(A1)", "-2+3", "@SUM(A1)", "\t=1", "＝1+1"}
	var buf bytes.Buffer
	w, err := sheet.NewWriter(&buf, "s", []sheet.Col{{Header: "=HEADER()"}, {Header: "phone", Text: true}})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range payloads {
		if err := w.Write(p, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for row := 1; row <= len(payloads)+1; row++ {
		for col := 1; col <= 2; col++ {
			cell, _ := excelize.CoordinatesToCellName(col, row)
			if formula, _ := f.GetCellFormula("s", cell); formula != "" {
				t.Errorf("%s holds formula %q", cell, formula)
			}
			if typ, _ := f.GetCellType("s", cell); typ != excelize.CellTypeInlineString {
				t.Errorf("%s has type %v, want an inline string", cell, typ)
			}
			if row == 1 {
				continue
			}
			// the text format keeps the text a text when the user edits the cell
			styleID, _ := f.GetCellStyle("s", cell)
			style, _ := f.GetStyle(styleID)
			if style == nil || style.NumFmt != 49 {
				t.Errorf("%s: style %+v, want the text format @", cell, style)
			}
			if v, _ := f.GetCellValue("s", cell); v != payloads[row-2] {
				t.Errorf("%s = %q, want %q unchanged", cell, v, payloads[row-2])
			}
		}
	}
}

func TestWriter_CSVNeutralisesFormulasAndKeepsDigits(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	w, err := sheet.NewCSVWriter(&buf, []sheet.Col{{Header: "note"}, {Header: "phone", Text: true}, {Header: "n", Kind: sheet.KindInt}})
	if err != nil {
		t.Fatal(err)
	}
	w.Write("=1+1", "13800138000", -5)
	w.Write("@cmd", "057187654321", nil)
	w.Write("+1", "0123", 0)
	w.Write("a=b", "12345", 7)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want := "\uFEFFnote,phone,n\r\n" +
		"'=1+1,13800138000\t,-5\r\n" + // digits Excel would turn into 1.38E+10 get a tab
		"'@cmd,057187654321\t,\r\n" +
		"'+1,0123\t,0\r\n" + // a leading 0 Excel would drop
		"a=b,12345,7\r\n"
	if buf.String() != want {
		t.Errorf("CSV\n%q\nwant\n%q", buf.String(), want)
	}
}

func TestWriter_ValuesOfTheWrongTypeAreRefused(t *testing.T) {
	t.Parallel()
	w, err := sheet.NewWriter(&bytes.Buffer{}, "s", []sheet.Col{{Header: "n", Kind: sheet.KindInt}, {Header: "d", Kind: sheet.KindDate}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Write("7", time.Now()); err == nil {
		t.Error("a string in an integer column was accepted")
	}
	w2, _ := sheet.NewCSVWriter(&bytes.Buffer{}, []sheet.Col{{Header: "n"}})
	if err := w2.Write("a", "b"); err == nil {
		t.Error("two values for one column were accepted")
	}
}

func TestWriter_EmptyValuesAndPointers(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	cols := []sheet.Col{{Header: "a"}, {Header: "n", Kind: sheet.KindInt}, {Header: "m", Kind: sheet.KindMoney}, {Header: "d", Kind: sheet.KindDate}}
	w, _ := sheet.NewCSVWriter(&buf, cols)
	var nilInt *int64
	ms := time.Date(2024, 3, 5, 23, 30, 0, 0, time.UTC).UnixMilli() // 07:30 next day in China
	s := "x"
	w.Write(&s, nilInt, int64(5), &ms)
	w.Write(nil, nil, int64(-5), time.Time{})
	w.Close()
	want := "\uFEFFa,n,m,d\r\nx,,0.05,2024-03-06\r\n,,-0.05,\r\n"
	if buf.String() != want {
		t.Errorf("CSV %q, want %q", buf.String(), want)
	}
}

func TestWriter_XLSXHeaderIsBoldAndFrozen(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	w, _ := sheet.NewWriter(&buf, "导出", []sheet.Col{{Header: "手机", Width: 16, Text: true}})
	w.Write("13800138000")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	styleID, _ := f.GetCellStyle("导出", "A1")
	style, _ := f.GetStyle(styleID)
	if style.Font == nil || !style.Font.Bold {
		t.Error("header is not bold")
	}
	panes, _ := f.GetPanes("导出")
	if !panes.Freeze || panes.YSplit != 1 {
		t.Errorf("panes %+v, want the header row frozen", panes)
	}
	if width, _ := f.GetColWidth("导出", "A"); width != 16 {
		t.Errorf("column width %v, want 16", width)
	}
}
