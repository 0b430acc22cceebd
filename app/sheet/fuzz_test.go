package sheet_test

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"dealerdesk/app/apperr"
	"dealerdesk/app/sheet"
)

// sheetCodes are the error codes the package may return.
var sheetCodes = map[string]bool{
	"sheet.xls_unsupported": true, "sheet.unsupported": true, "sheet.encrypted": true, "sheet.empty": true,
	"sheet.corrupt": true, "sheet.too_large": true, "sheet.too_many_rows": true, "sheet.too_many_columns": true,
}

var fuzzLimits = sheet.Limits{MaxRows: 200, MaxCols: 16, MaxUnzippedBytes: 8 << 20, MaxRecordBytes: 4 << 10}

// checkRead opens data and reads it to the end, failing on any broken property:
// only package error codes, never more cells than the limit, rows in order.
func checkRead(t *testing.T, data []byte, name string) {
	r, err := sheet.OpenWithLimits(bytes.NewReader(data), int64(len(data)), name, fuzzLimits)
	if err != nil {
		checkErr(t, err)
		return
	}
	defer r.Close()
	if len(r.Header()) == 0 || len(r.Header()) > fuzzLimits.MaxCols {
		t.Fatalf("header of %d cells", len(r.Header()))
	}
	last, rows := r.HeaderRow(), 0
	for {
		num, cells, err := r.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			checkErr(t, err)
			return
		}
		rows++
		if len(cells) > fuzzLimits.MaxCols || rows > fuzzLimits.MaxRows {
			t.Fatalf("row %d has %d cells (row %d of the sheet)", num, len(cells), rows)
		}
		if num <= last {
			t.Fatalf("row number %d after %d", num, last)
		}
		last = num
	}
}

func checkErr(t *testing.T, err error) {
	t.Helper()
	var e *apperr.Error
	if !errors.As(err, &e) || !sheetCodes[e.Code] {
		t.Fatalf("error outside the package's codes: %v", err)
	}
}

func fixtures(t testing.TB) map[string][]byte {
	names, err := filepath.Glob("testdata/*.*")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(n)] = b
	}
	return out
}

func FuzzReadCSV(f *testing.F) {
	for name, b := range fixtures(f) {
		if filepath.Ext(name) != ".xlsx" {
			f.Add(b)
		}
	}
	f.Add([]byte("sep=;\na;b\n1;2\n"))
	f.Add([]byte("a,\"b\nc\",d\r\n\r\n1,2,3\r"))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkRead(t, data, "fuzz.csv")
	})
}

func FuzzReadXLSX(f *testing.F) {
	for name, b := range fixtures(f) {
		if filepath.Ext(name) == ".xlsx" {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkRead(t, data, "fuzz.xlsx")
	})
}

// FuzzReadXLSXParts fuzzes the XML inside a valid workbook — the worksheet, the
// shared strings and the styles — which FuzzReadXLSX rarely reaches through the
// zip's checksums.
func FuzzReadXLSXParts(f *testing.F) {
	base := fixtures(f)["customers.xlsx"]
	zr, err := zip.NewReader(bytes.NewReader(base), int64(len(base)))
	if err != nil {
		f.Fatal(err)
	}
	parts := map[string][]byte{}
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			f.Fatal(err)
		}
		parts[zf.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	const sheetPart, sstPart, stylesPart = "xl/worksheets/sheet2.xml", "xl/sharedStrings.xml", "xl/styles.xml"
	f.Add(parts[sheetPart], parts[sstPart], parts[stylesPart])
	f.Add([]byte(`<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c><c r="B1" s="1"><v>45356.5</v></c></row><row r="3"><c r="C3" t="b"><v>1</v></c><c r="D3" t="e"><v>#N/A</v></c><c r="E3" t="d"><v>2024-03-05T10:00:00Z</v></c></row></sheetData></worksheet>`),
		parts[sstPart], parts[stylesPart])
	f.Fuzz(func(t *testing.T, sheetXML, sstXML, stylesXML []byte) {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		for _, zf := range zr.File {
			content := parts[zf.Name]
			switch zf.Name {
			case sheetPart:
				content = sheetXML
			case sstPart:
				content = sstXML
			case stylesPart:
				content = stylesXML
			}
			w, err := zw.CreateHeader(&zip.FileHeader{Name: zf.Name, Method: zip.Store})
			if err != nil {
				t.Fatal(err)
			}
			w.Write(content)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		checkRead(t, buf.Bytes(), "fuzz.xlsx")
	})
}
