package sheet_test

import (
	"bytes"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
)

var update = flag.Bool("update", false, "rewrite the fixture files in testdata/")

// TestFixtures_Generate writes the files under testdata/ once; they are committed
// so that the reading tests run on fixed bytes, as users' files are. Run with
// -update to rewrite them after changing this generator.
func TestFixtures_Generate(t *testing.T) {
	if !*update {
		t.Skip("fixtures are committed; -update rewrites them")
	}
	files := map[string][]byte{
		"customers.xlsx": customersXLSX(t),
		"leads_gbk.csv": gbk(t, "姓名,手机,意向车型,来源,留资时间,备注\r\n"+
			"张三,13800138000,汉兰达,汽车之家,2024-03-05 10:00,\r\n"+
			"欧阳娜娜,139-1234-5678,凯美瑞,懂车帝,2024/3/5 11:30,\"说\"\"好\"\"的,周末到店\"\r\n"+
			"\r\n"+
			"龚鑫,15900001111,RAV4荣放,易车,2024-03-06,\"第一行\r\n第二行\"\r\n"+
			"褚卫,,,,,\r\n"),
		"leads_utf8_bom.csv": []byte("\uFEFF客户名称,联系电话,车型\r\n\"Zhang, San\",13800138000,Model Y\r\n李四,０５７１-８７６５４３２１,小米SU7\r\n"),
		"semicolon.csv":      []byte("Name;Phone;Amount;Date\nMüller;+49 30 123456;1234,50;05.03.2024\n张三;13800138000;99,00;06.03.2024\n"),
		"leads_utf16.txt":    utf16le(t, "姓名\t手机\t车型\r\n张三\t13800138000\t汉兰达\r\n"),
		"portal_leads.xls":   []byte("<html><head><meta charset=\"utf-8\"></head><body><table><tr><td>姓名</td><td>手机</td></tr><tr><td>张三</td><td>13800138000</td></tr></table></body></html>\n"),
		"old.xls":            oldXLS(),
		"random.xlsx":        randomBytes(4096),
		"encrypted.xlsx":     encryptedXLSX(t),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join("testdata", name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// customersXLSX is a customer list as dealers keep them: a title row above the
// header, a merged header cell, phones as numbers and as text, dates in several
// formats, empty and blank-but-formatted rows, a hidden sheet before it and a notes
// sheet after it.
func customersXLSX(t *testing.T) []byte {
	f := excelize.NewFile()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(f.SetSheetName("Sheet1", "配置"))
	s := "客户名单"
	idx, err := f.NewSheet(s)
	must(err)
	_, err = f.NewSheet("说明")
	must(err)
	must(f.SetCellValue("说明", "A1", "本表由销售部维护"))
	f.SetActiveSheet(idx)
	must(f.SetSheetVisible("配置", false))
	must(f.SetCellValue("配置", "A1", "hidden"))

	style := func(st *excelize.Style) int {
		id, err := f.NewStyle(st)
		must(err)
		return id
	}
	cnDate := `yyyy"年"m"月"d"日"`
	yuan := `"¥"#,##0.00`
	date14 := style(&excelize.Style{NumFmt: 14})
	dateCN := style(&excelize.Style{CustomNumFmt: &cnDate})
	dateTime := style(&excelize.Style{NumFmt: 22})
	text := style(&excelize.Style{NumFmt: 49})
	sci := style(&excelize.Style{NumFmt: 11})
	money := style(&excelize.Style{CustomNumFmt: &yuan})
	thousands := style(&excelize.Style{NumFmt: 3})
	bold := style(&excelize.Style{Font: &excelize.Font{Bold: true}})

	set := func(cell string, v any, styleID int) {
		t.Helper()
		must(f.SetCellValue(s, cell, v))
		if styleID != 0 {
			must(f.SetCellStyle(s, cell, cell, styleID))
		}
	}
	set("A1", "客户名单（2024年3月导出）", bold)
	must(f.MergeCell(s, "A1", "J1"))
	for i, h := range []string{"  客户姓名 ", "手机号码", "联系电话", "", "到店日期", "意向车型", "身份证号", "预算（元）", "备注", "到店时间"} {
		cell, _ := excelize.CoordinatesToCellName(i+1, 2)
		set(cell, h, bold)
	}
	must(f.MergeCell(s, "C2", "D2"))
	day := func(d, h, m int) time.Time { return time.Date(2024, 3, d, h, m, 0, 0, time.UTC) }

	set("A3", "张三", 0)
	set("B3", 13800138000, 0) // a phone typed into a General cell: a number
	set("C3", "0571-87654321", 0)
	set("D3", "转 8001", 0)
	set("E3", day(5, 0, 0), date14)
	set("F3", "汉兰达 2.0T", 0)
	set("G3", "11010519491231002X", 0)
	set("H3", 150000, thousands)
	set("I3", "=SUM(A1:A2)", 0)                           // text that looks like a formula, not a formula
	set("J3", 0.4375, style(&excelize.Style{NumFmt: 20})) // 10:30 in an h:mm cell

	set("A4", "李四", 0)
	set("B4", "13912345678", text) // a phone in a text cell
	set("C4", 4008208820, 0)
	set("E4", day(6, 0, 0), dateCN)
	set("F4", "凯美瑞", 0)
	set("G4", 440308199001011239, 0) // an ID number typed as a number: Excel keeps 15 digits
	set("H4", 180000.5, money)
	set("I4", "老客户转介绍", 0)

	// rows 5 and 6 are empty; 6 has formatting but no value
	must(f.SetCellStyle(s, "A6", "I6", bold))

	set("A7", "　王五　", 0) // full-width spaces around the name
	set("B7", "138 0013 8000", 0)
	set("E7", day(7, 14, 30), dateTime)
	set("F7", "RAV4荣放", 0)
	set("I7", "  多行\n备注 ", 0)

	set("A8", "赵六", 0)
	set("B8", 13800138001, sci) // a phone in a cell formatted 0.00E+00
	set("C8", "010-12345678", 0)
	set("E8", "2024/3/8", date14) // a date typed as text stays as typed, also in a date-formatted cell
	set("H8", 0, money)

	set("A10", "钱七", 0)
	set("B10", 15900001111, text) // a number in a text-formatted cell
	set("E10", 45360, 0)          // a date serial without a date format stays a number
	set("H10", 0.1+0.2, 0)

	var buf bytes.Buffer
	_, err = f.WriteTo(&buf)
	must(err)
	return buf.Bytes()
}

func gbk(t *testing.T, s string) []byte {
	b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func utf16le(t *testing.T, s string) []byte {
	b, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// oldXLS is the start of an Excel 97–2003 file: the compound-file signature and
// header sector, which is all the detection looks at.
func oldXLS() []byte {
	b := make([]byte, 512)
	copy(b, []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1})
	return b
}

func randomBytes(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func encryptedXLSX(t *testing.T) []byte {
	f := excelize.NewFile()
	if err := f.SetCellValue("Sheet1", "A1", "姓名"); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf, excelize.Options{Password: "secret"}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
