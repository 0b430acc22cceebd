package sheet_test

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"dealerdesk/app/apperr"
	"dealerdesk/app/sheet"
)

func openFixture(t *testing.T, name string) (*sheet.Reader, error) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return sheet.Open(bytes.NewReader(b), int64(len(b)), name)
}

// readAll returns every data row as "num: cells".
func readAll(t *testing.T, r *sheet.Reader) []sheet.Row {
	t.Helper()
	var rows []sheet.Row
	for {
		num, cells, err := r.Next()
		if errors.Is(err, io.EOF) {
			return rows
		}
		if err != nil {
			t.Fatalf("Next after row %d: %v", len(rows), err)
		}
		rows = append(rows, sheet.Row{Num: num, Cells: cells})
	}
}

func assertRows(t *testing.T, got []sheet.Row, want []sheet.Row) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("read %d rows, want %d: %v", len(got), len(want), got)
	}
	for i := range min(len(got), len(want)) {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("row %d:\n got %d %q\nwant %d %q", i, got[i].Num, got[i].Cells, want[i].Num, want[i].Cells)
		}
	}
}

func assertCode(t *testing.T, err error, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want %s", code)
	}
	if got := apperr.As(err).Code; got != code {
		t.Fatalf("error %v (code %s); want code %s", err, got, code)
	}
}

func TestOpen_XLSXCellsComeOutAsTyped(t *testing.T) {
	t.Parallel()
	r, err := openFixture(t, "customers.xlsx")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Format() != sheet.FormatXLSX || r.SheetName() != "客户名单" {
		t.Errorf("format %s sheet %q; want xlsx, the first visible sheet 客户名单", r.Format(), r.SheetName())
	}
	// row 1 is a merged one-cell title; the header below it is trimmed and keeps
	// the blank second half of the merged 联系电话 cell
	if r.HeaderRow() != 2 {
		t.Errorf("header row %d, want 2 (row 1 is a title)", r.HeaderRow())
	}
	wantHeader := []string{"客户姓名", "手机号码", "联系电话", "", "到店日期", "意向车型", "身份证号", "预算（元）", "备注", "到店时间"}
	if !reflect.DeepEqual(r.Header(), wantHeader) {
		t.Errorf("header %q, want %q", r.Header(), wantHeader)
	}
	assertRows(t, readAll(t, r), []sheet.Row{
		// a phone in a General number cell, a date cell (format 14), a number
		// shown with thousands separators, formula-looking text kept as text, a
		// time in an h:mm cell
		{3, []string{"张三", "13800138000", "0571-87654321", "转 8001", "2024-03-05", "汉兰达 2.0T", "11010519491231002X", "150000", "=SUM(A1:A2)", "10:30:00"}},
		// a phone in a text cell; a 400 number as a number; a 年月日 date; an
		// 18-digit ID typed as a number keeps the 15 digits Excel keeps; ¥ money
		{4, []string{"李四", "13912345678", "4008208820", "", "2024-03-06", "凯美瑞", "440308199001011000", "180000.5", "老客户转介绍", ""}},
		// rows 5 and 6 are empty (6 only formatted) and skipped; spaces trimmed,
		// also full-width ones; a date-time cell
		{7, []string{"王五", "138 0013 8000", "", "", "2024-03-07 14:30:00", "RAV4荣放", "", "", "多行\n备注", ""}},
		// a phone formatted 0.00E+00 comes out in full; a date typed as text stays
		// as typed, also in a date-formatted cell
		{8, []string{"赵六", "13800138001", "010-12345678", "", "2024/3/8", "", "", "0", "", ""}},
		// a number in a text-formatted cell; a date serial without a date format
		// is a number; 0.1+0.2 as Excel shows it
		{10, []string{"钱七", "15900001111", "", "", "45360", "", "", "0.3", "", ""}},
	})
}

func TestOpen_GBKCSVWithQuotesBlankLinesAndLineBreaks(t *testing.T) {
	t.Parallel()
	r, err := openFixture(t, "leads_gbk.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Encoding() != "gb18030" || r.Delimiter() != ',' {
		t.Errorf("encoding %s delimiter %q; want gb18030 ','", r.Encoding(), r.Delimiter())
	}
	if want := []string{"姓名", "手机", "意向车型", "来源", "留资时间", "备注"}; !reflect.DeepEqual(r.Header(), want) {
		t.Errorf("header %q, want %q", r.Header(), want)
	}
	// Row numbers are Excel's: the blank line is row 4; the record with a quoted
	// line break is row 5 alone, so the last record is row 6.
	assertRows(t, readAll(t, r), []sheet.Row{
		{2, []string{"张三", "13800138000", "汉兰达", "汽车之家", "2024-03-05 10:00", ""}},
		{3, []string{"欧阳娜娜", "139-1234-5678", "凯美瑞", "懂车帝", "2024/3/5 11:30", `说"好"的,周末到店`}},
		{5, []string{"龚鑫", "15900001111", "RAV4荣放", "易车", "2024-03-06", "第一行\n第二行"}},
		{6, []string{"褚卫", "", "", "", "", ""}},
	})
}

func TestOpen_UTF8BOMCSV(t *testing.T) {
	t.Parallel()
	r, err := openFixture(t, "leads_utf8_bom.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Encoding() != "utf-8" || r.Header()[0] != "客户名称" {
		t.Errorf("encoding %s, first header %q; want utf-8 and no BOM in the header", r.Encoding(), r.Header()[0])
	}
	assertRows(t, readAll(t, r), []sheet.Row{
		{2, []string{"Zhang, San", "13800138000", "Model Y"}},
		{3, []string{"李四", "０５７１-８７６５４３２１", "小米SU7"}},
	})
}

func TestOpen_SemicolonCSV(t *testing.T) {
	t.Parallel()
	r, err := openFixture(t, "semicolon.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Delimiter() != ';' {
		t.Fatalf("delimiter %q, want ';' (the decimal commas must not win)", r.Delimiter())
	}
	assertRows(t, readAll(t, r), []sheet.Row{
		{2, []string{"Müller", "+49 30 123456", "1234,50", "05.03.2024"}},
		{3, []string{"张三", "13800138000", "99,00", "06.03.2024"}},
	})
}

func TestOpen_UTF16TabText(t *testing.T) {
	t.Parallel()
	r, err := openFixture(t, "leads_utf16.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Encoding() != "utf-16le" || r.Delimiter() != '\t' {
		t.Errorf("encoding %s delimiter %q; want utf-16le tab", r.Encoding(), r.Delimiter())
	}
	assertRows(t, readAll(t, r), []sheet.Row{{2, []string{"张三", "13800138000", "汉兰达"}}})
}

func TestOpen_RefusesWhatItCannotRead(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"old.xls":          "sheet.xls_unsupported", // Excel 97–2003
		"portal_leads.xls": "sheet.xls_unsupported", // an HTML table saved as .xls
		"encrypted.xlsx":   "sheet.encrypted",
		"random.xlsx":      "sheet.unsupported", // random bytes under an Excel name
	}
	for name, code := range cases {
		_, err := openFixture(t, name)
		assertCode(t, err, code)
	}
	inline := map[string]struct {
		name string
		data []byte
		code string
	}{
		"empty file":        {"a.csv", nil, "sheet.empty"},
		"only blank lines":  {"a.csv", []byte("\r\n , ,\r\n\r\n"), "sheet.empty"},
		"a word document":   {"a.docx", zipOf(t, map[string]string{"word/document.xml": "<w/>"}), "sheet.unsupported"},
		"a PDF":             {"a.pdf", []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\x00\x01\x02"), "sheet.unsupported"},
		"text as .json":     {"a.json", []byte(`{"name":"张三"}`), "sheet.unsupported"},
		"a broken xlsx":     {"a.xlsx", []byte("PK\x03\x04 not really a zip"), "sheet.corrupt"},
		"html without .xls": {"a.htm", []byte("<!DOCTYPE html><table></table>"), "sheet.unsupported"},
	}
	for what, c := range inline {
		_, err := sheet.Open(bytes.NewReader(c.data), int64(len(c.data)), c.name)
		if err == nil || apperr.As(err).Code != c.code {
			t.Errorf("%s: %v; want %s", what, err, c.code)
		}
	}
}

func TestOpen_TextUnderAnExcelNameIsRead(t *testing.T) {
	t.Parallel()
	// portals export tab-separated text named .xls
	data := []byte("姓名\t手机\n张三\t13800138000\n")
	r, err := sheet.Open(bytes.NewReader(data), int64(len(data)), "线索导出.xls")
	if err != nil {
		t.Fatal(err)
	}
	assertRows(t, readAll(t, r), []sheet.Row{{2, []string{"张三", "13800138000"}}})
}

func TestOpen_GBKDetectedBeyondAnASCIIStart(t *testing.T) {
	t.Parallel()
	// 100 KiB of ASCII rows before the first Chinese name: a sample would say UTF-8
	var b strings.Builder
	b.WriteString("name,phone\n")
	for b.Len() < 100<<10 {
		b.WriteString("Li Lei,13800138000\n")
	}
	b.WriteString("韩梅梅,13900139000\n")
	data := gbk(t, b.String())
	r, err := sheet.Open(bytes.NewReader(data), int64(len(data)), "a.csv")
	if err != nil {
		t.Fatal(err)
	}
	rows := readAll(t, r)
	if last := rows[len(rows)-1].Cells[0]; last != "韩梅梅" || r.Encoding() != "gb18030" {
		t.Errorf("last name %q, encoding %s; want 韩梅梅 from gb18030", last, r.Encoding())
	}
}

func TestOpen_SniffsDelimiterAndSepLine(t *testing.T) {
	t.Parallel()
	cases := []struct {
		data  string
		delim rune
		first []string
	}{
		{"a,b,c\n1,2,3\n", ',', []string{"1", "2", "3"}},
		{"a\tb\tc\n1,5\t2\t3\n", '\t', []string{"1,5", "2", "3"}},
		{"sep=;\na;b\n1,5;2\n", ';', []string{"1,5", "2"}},
		{"\"x;y\",b\n\"1;2\",3\n", ',', []string{"1;2", "3"}}, // delimiters inside quotes do not count
		{"name\r13800138000\r", ',', []string{"13800138000"}}, // classic Mac line ends
	}
	for _, c := range cases {
		r, err := sheet.Open(strings.NewReader(c.data), int64(len(c.data)), "a.csv")
		if err != nil {
			t.Errorf("%q: %v", c.data, err)
			continue
		}
		_, cells, err := r.Next()
		if r.Delimiter() != c.delim || err != nil || !reflect.DeepEqual(cells, c.first) {
			t.Errorf("%q: delimiter %q, first row %q, %v; want %q %q", c.data, r.Delimiter(), cells, err, c.delim, c.first)
		}
	}
	// the sep= line is not a row: the header is row 1
	data := "sep=;\n姓名;手机\n张三;138\n"
	r, _ := sheet.Open(strings.NewReader(data), int64(len(data)), "a.csv")
	if num, _, _ := r.Next(); r.HeaderRow() != 1 || num != 2 {
		t.Errorf("header row %d, first data row %d; want 1 and 2", r.HeaderRow(), num)
	}
}

func TestOpen_OneColumnSheetKeepsItsFirstRowAsHeader(t *testing.T) {
	t.Parallel()
	data := "手机\n13800138000\n13900139000\n"
	r, err := sheet.Open(strings.NewReader(data), int64(len(data)), "a.csv")
	if err != nil {
		t.Fatal(err)
	}
	if r.HeaderRow() != 1 || r.Header()[0] != "手机" {
		t.Fatalf("header %q at row %d; want 手机 at 1", r.Header(), r.HeaderRow())
	}
	assertRows(t, readAll(t, r), []sheet.Row{{2, []string{"13800138000"}}, {3, []string{"13900139000"}}})
}

func TestPreview_ReturnsRowsThatNextReturnsAgain(t *testing.T) {
	t.Parallel()
	r, err := openFixture(t, "leads_gbk.csv")
	if err != nil {
		t.Fatal(err)
	}
	preview, err := r.Preview(2)
	if err != nil || len(preview) != 2 || preview[0].Num != 2 || preview[1].Num != 3 {
		t.Fatalf("Preview(2) = %v, %v", preview, err)
	}
	if more, _ := r.Preview(100); len(more) != 4 {
		t.Errorf("Preview(100) = %d rows, want all 4", len(more))
	}
	rows := readAll(t, r)
	if len(rows) != 4 || !reflect.DeepEqual(rows[0], preview[0]) {
		t.Errorf("after Preview, Next gave %d rows starting %v", len(rows), rows)
	}
}

func TestOpen_RowAndColumnLimits(t *testing.T) {
	t.Parallel()
	data := "a,b\n1,2\n3,4\n5,6\n"
	r, err := sheet.OpenWithLimits(strings.NewReader(data), int64(len(data)), "a.csv", sheet.Limits{MaxRows: 2})
	if err != nil {
		t.Fatal(err)
	}
	r.Next()
	r.Next()
	_, _, err = r.Next()
	assertCode(t, err, "sheet.too_many_rows")
	if apperr.As(err).Details["max"] != 2 {
		t.Errorf("details %v, want max 2", apperr.As(err).Details)
	}
	if _, _, again := r.Next(); again != err {
		t.Error("the error does not stay")
	}

	wide := "a,b,c\n1,2,3,4\n"
	r, err = sheet.OpenWithLimits(strings.NewReader(wide), int64(len(wide)), "a.csv", sheet.Limits{MaxCols: 3})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = r.Next()
	assertCode(t, err, "sheet.too_many_columns")
	if apperr.As(err).Details["row"] != 2 {
		t.Errorf("details %v, want row 2", apperr.As(err).Details)
	}
	// trailing empty cells do not count
	trailing := "a,b,c,,,,,\n1,2,3,,,,,,,,\n"
	r, err = sheet.OpenWithLimits(strings.NewReader(trailing), int64(len(trailing)), "a.csv", sheet.Limits{MaxCols: 3})
	if err != nil {
		t.Fatal(err)
	}
	if _, cells, err := r.Next(); err != nil || len(cells) != 3 {
		t.Errorf("row with trailing commas: %q, %v", cells, err)
	}
}

func TestOpen_EndlessCSVRecordIsRefused(t *testing.T) {
	t.Parallel()
	data := []byte("a,b\n\"" + strings.Repeat("x", 3<<20)) // an unterminated quote
	r, err := sheet.OpenWithLimits(bytes.NewReader(data), int64(len(data)), "a.csv", sheet.Limits{MaxRecordBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = r.Next()
	assertCode(t, err, "sheet.too_large")
}

func TestOpen_ZipBombIsRefusedBeforeInflating(t *testing.T) {
	t.Parallel()
	// 64 MiB of spaces compress to some 64 KiB
	big := zipOf(t, map[string]string{
		"[Content_Types].xml":      "<Types/>",
		"xl/workbook.xml":          "<workbook/>",
		"xl/worksheets/sheet1.xml": strings.Repeat(" ", 64<<20),
	})
	if len(big) > 1<<20 {
		t.Fatalf("fixture is %d bytes", len(big))
	}
	_, err := sheet.OpenWithLimits(bytes.NewReader(big), int64(len(big)), "bomb.xlsx", sheet.Limits{MaxUnzippedBytes: 32 << 20})
	assertCode(t, err, "sheet.too_large")
	// an in-memory part (styles) beyond 128 MiB is refused under any limit
	styles := zipOf(t, map[string]string{
		"xl/workbook.xml": "<workbook/>",
		"xl/styles.xml":   strings.Repeat(" ", 129<<20),
	})
	_, err = sheet.Open(bytes.NewReader(styles), int64(len(styles)), "bomb.xlsx")
	assertCode(t, err, "sheet.too_large")
}

func TestOpen_LargeSharedStringsAndSheetGoThroughTemporaryFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 20 MiB workbook")
	}
	t.Parallel()
	// unique strings make the shared-string table exceed excelize's 16 MiB
	// in-memory limit; reading must still give every row
	var buf bytes.Buffer
	w, err := sheet.NewWriter(&buf, "s", []sheet.Col{{Header: "text"}})
	if err != nil {
		t.Fatal(err)
	}
	const n = 120_000
	for i := range n {
		if err := w.Write(fmt.Sprintf("%06d-%s", i, strings.Repeat("长", 60))); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := sheet.Open(bytes.NewReader(buf.Bytes()), int64(buf.Len()), "big.xlsx")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rows := 0
	for {
		num, cells, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("%06d-", rows); num != rows+2 || !strings.HasPrefix(cells[0], want) {
			t.Fatalf("row %d: %d %q", rows, num, cells[0][:10])
		}
		rows++
	}
	if rows != n {
		t.Fatalf("read %d rows, want %d", rows, n)
	}
}

func TestColumnName(t *testing.T) {
	t.Parallel()
	for i, want := range map[int]string{0: "A", 25: "Z", 26: "AA", 51: "AZ", 52: "BA", 701: "ZZ", 702: "AAA", 16383: "XFD"} {
		if got := sheet.ColumnName(i); got != want {
			t.Errorf("ColumnName(%d) = %q, want %q", i, got, want)
		}
	}
}

func TestTrimCell(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"  张三 ": "张三", "　王五　": "王五", "\uFEFF姓名": "姓名", "\u00a0x\u200b": "x", "13800138000\t": "13800138000", "a b": "a b",
	} {
		if got := sheet.TrimCell(in); got != want {
			t.Errorf("TrimCell(%q) = %q, want %q", in, got, want)
		}
	}
}

func zipOf(t testing.TB, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, content := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, content)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestFormatCodeKind_TellsDatesFromNumbers(t *testing.T) {
	t.Parallel()
	const plain, date, dateTime, timeOnly = 0, 1, 2, 3
	cases := map[string]int{
		"yyyy/m/d":                            date,
		`yyyy"年"m"月"d"日"`:                     date,
		"yyyy年m月d日":                           date,
		"[$-F800]dddd, mmmm dd, yyyy":         date,
		"[$-804]yyyy-mm-dd;@":                 date,
		"mmm-yy":                              date,
		"mmmm":                                date,
		"m/d":                                 date,
		"yyyy-mm-dd hh:mm":                    dateTime,
		"YYYY/MM/DD HH:MM:SS":                 dateTime,
		"h:mm AM/PM":                          timeOnly,
		"mm:ss":                               timeOnly,
		`h"时"mm"分"`:                           timeOnly,
		"[h]:mm:ss":                           plain, // a duration, not a time of day
		"0.00E+00":                            plain,
		"General":                             plain,
		"@":                                   plain,
		`"¥"#,##0.00`:                         plain,
		"#,##0.00_);[Red](#,##0.00)":          plain,
		`"Date: "0`:                           plain, // quoted letters are text
		`0.0\d`:                               plain, // an escaped d is text
		"[Red]0.00;[Blue]yyyy":                plain, // only the first section decides
		"_(* #,##0_);_(* (#,##0);_(* \"-\"_)": plain,
	}
	for code, want := range cases {
		if got := sheet.FormatCodeKind(code); got != want {
			t.Errorf("FormatCodeKind(%q) = %d, want %d", code, got, want)
		}
	}
}

func TestOpen_XLSX1904DateSystem(t *testing.T) {
	t.Parallel()
	f := excelize.NewFile()
	yes := true
	if err := f.SetWorkbookProps(&excelize.WorkbookPropsOptions{Date1904: &yes}); err != nil {
		t.Fatal(err)
	}
	style, _ := f.NewStyle(&excelize.Style{NumFmt: 14})
	f.SetCellValue("Sheet1", "A1", "日期")
	f.SetCellValue("Sheet1", "A2", time.Date(2024, 3, 5, 0, 0, 0, 0, time.UTC))
	f.SetCellStyle("Sheet1", "A2", "A2", style)
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	r, err := sheet.Open(bytes.NewReader(buf.Bytes()), int64(buf.Len()), "mac.xlsx")
	if err != nil {
		t.Fatal(err)
	}
	assertRows(t, readAll(t, r), []sheet.Row{{2, []string{"2024-03-05"}}})
}

func TestOpen_SmallUnzipLimitStillReadsSmallWorkbooks(t *testing.T) {
	t.Parallel()
	b, _ := os.ReadFile("testdata/customers.xlsx")
	r, err := sheet.OpenWithLimits(bytes.NewReader(b), int64(len(b)), "c.xlsx", sheet.Limits{MaxUnzippedBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if rows := readAll(t, r); len(rows) != 5 {
		t.Errorf("read %d rows, want 5", len(rows))
	}
}
