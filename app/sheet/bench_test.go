package sheet_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"dealerdesk/app/sheet"
)

const benchRows = 100_000

// benchInput is the generated export rows, made once per benchmark outside the
// timer.
func benchInput() [][]any {
	rows := make([][]any, benchRows)
	for i := range rows {
		rows[i], _ = exportRow(i)
	}
	return rows
}

func writeBench(b *testing.B, w io.Writer, newWriter func(io.Writer) (*sheet.Writer, error), rows [][]any) {
	sw, err := newWriter(w)
	if err != nil {
		b.Fatal(err)
	}
	for _, r := range rows {
		if err := sw.Write(r...); err != nil {
			b.Fatal(err)
		}
	}
	if err := sw.Close(); err != nil {
		b.Fatal(err)
	}
}

func newXLSX(w io.Writer) (*sheet.Writer, error) { return sheet.NewWriter(w, "客户", exportCols) }
func newCSV(w io.Writer) (*sheet.Writer, error)  { return sheet.NewCSVWriter(w, exportCols) }

func readBench(b *testing.B, data []byte, name string) {
	r, err := sheet.Open(bytes.NewReader(data), int64(len(data)), name)
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for {
		_, _, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		n++
	}
	r.Close()
	if n != benchRows {
		b.Fatalf("read %d rows", n)
	}
}

// BenchmarkReadXLSX_100k reads a 100,000-row, 8-column export (text, phone, ID,
// integer, money, date, date-time, notes).
func BenchmarkReadXLSX_100k(b *testing.B) {
	var buf bytes.Buffer
	writeBench(b, &buf, newXLSX, benchInput())
	b.SetBytes(int64(buf.Len()))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		readBench(b, buf.Bytes(), "bench.xlsx")
	}
	b.ReportMetric(float64(benchRows*b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkWriteXLSX_100k(b *testing.B) {
	rows := benchInput()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		writeBench(b, io.Discard, newXLSX, rows)
	}
	b.ReportMetric(float64(benchRows*b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkReadCSV_100k(b *testing.B) {
	var buf bytes.Buffer
	writeBench(b, &buf, newCSV, benchInput())
	b.SetBytes(int64(buf.Len()))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		readBench(b, buf.Bytes(), "bench.csv")
	}
	b.ReportMetric(float64(benchRows*b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkWriteCSV_100k(b *testing.B) {
	rows := benchInput()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		writeBench(b, io.Discard, newCSV, rows)
	}
	b.ReportMetric(float64(benchRows*b.N)/b.Elapsed().Seconds(), "rows/s")
}
