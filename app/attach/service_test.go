package attach_test

import (
	"archive/zip"
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"io/fs"
	"math/rand/v2"
	"mime"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"dealerdesk/app/apperr"
	"dealerdesk/app/attach"
	"dealerdesk/app/audit"
	"dealerdesk/app/auth"
	"dealerdesk/app/clock"
	"dealerdesk/app/db"
)

// ---- harness ----

type env struct {
	ctx     context.Context
	d       *db.DB
	dir     string
	svc     *attach.Service
	store1  int64
	store2  int64
	writer  auth.Actor // store scope in store 1, may read and write widgets
	reader  auth.Actor // store scope in store 1, may only read widgets
	widget1 int64      // in store 1, owned by user 10
	widget2 int64      // in store 2, owned by user 20
}

// newEnv opens a real SQLite file, migrates it, adds two stores and a "widget"
// entity (a stand-in for a domain record) with its resolver.
func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	d, err := db.Open(ctx, filepath.Join(dir, "dd.db"), db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if _, err := d.Migrate(ctx, "", nil); err != nil {
		t.Fatal(err)
	}
	e := &env{ctx: ctx, d: d, dir: dir}
	e.store1 = insert(t, d, `INSERT INTO store(code,name,created_at,updated_at) VALUES ('S1','一店',0,0)`)
	e.store2 = insert(t, d, `INSERT INTO store(code,name,created_at,updated_at) VALUES ('S2','二店',0,0)`)
	insert(t, d, `CREATE TABLE widget (id INTEGER PRIMARY KEY, store_id INTEGER NOT NULL REFERENCES store (id), owner_id INTEGER NOT NULL) STRICT`)
	e.widget1 = insert(t, d, `INSERT INTO widget(store_id, owner_id) VALUES (?, 10)`, e.store1)
	e.widget2 = insert(t, d, `INSERT INTO widget(store_id, owner_id) VALUES (?, 20)`, e.store2)
	e.svc = attach.NewService(d, dir, clock.NewFake(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)), nil)
	e.svc.Register("widget", func(ctx context.Context, q db.Querier, id int64) (attach.Owner, error) {
		var o attach.Owner
		err := q.QueryRowContext(ctx, `SELECT store_id, owner_id FROM widget WHERE id = ?`, id).Scan(&o.Record.StoreID, &o.Record.OwnerID)
		if errors.Is(err, sql.ErrNoRows) {
			return o, apperr.New(apperr.NotFound, "not_found")
		}
		o.ReadPerm, o.WritePerm = auth.PermCustomerRead, auth.PermCustomerWrite
		return o, err
	})
	e.writer = actor(10, auth.ScopeStore, e.store1, auth.PermCustomerRead, auth.PermCustomerWrite, auth.PermAttachWrite)
	e.reader = actor(11, auth.ScopeStore, e.store1, auth.PermCustomerRead)
	return e
}

func actor(id int64, scope auth.Scope, store int64, perms ...string) auth.Actor {
	p := map[string]bool{}
	for _, x := range perms {
		p[x] = true
	}
	return auth.Actor{UserID: id, Username: "u", Scope: scope, HomeStoreID: store, StoreID: store, Perms: p}
}

func insert(t *testing.T, d *db.DB, q string, args ...any) int64 {
	t.Helper()
	res, err := d.W.Exec(q, args...)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := res.LastInsertId()
	return id
}

func (e *env) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	if err := e.d.R.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// files lists the stored files (temporary ones included: none may be left behind).
func (e *env) files(t *testing.T) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(filepath.Join(e.dir, "files"), func(p string, de fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return filepath.SkipDir
		}
		if err != nil {
			return err
		}
		if !de.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (e *env) upload(t *testing.T, name string, data []byte) attach.Attachment {
	t.Helper()
	a, err := e.svc.Upload(e.ctx, e.writer, "widget", e.widget1, name, bytes.NewReader(data))
	if err != nil {
		t.Fatalf("upload %s: %v", name, err)
	}
	return a
}

func readAll(t *testing.T, r io.ReadCloser) []byte {
	t.Helper()
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// wantField fails unless err is Invalid with code on field.
func wantField(t *testing.T, err error, field, code string) {
	t.Helper()
	e := apperr.As(err)
	if e.Kind != apperr.Invalid || e.Fields[field].Code != code {
		t.Fatalf("err = %v, want invalid %s:%s", err, field, code)
	}
}

// ---- content generators ----

// twoTone is a w×h image, red on the left half and blue on the right.
func twoTone(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	red, blue := color.RGBA{255, 0, 0, 255}, color.RGBA{0, 0, 255, 255}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if x < w/2 {
				img.SetRGBA(x, y, red)
			} else {
				img.SetRGBA(x, y, blue)
			}
		}
	}
	return img
}

func pngBytes(t *testing.T, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, twoTone(w, h)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// jpegBytes encodes a two-tone image; orient > 0 adds an EXIF orientation tag.
func jpegBytes(t *testing.T, w, h, orient int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, twoTone(w, h), &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	out := b.Bytes()
	if orient == 0 {
		return out
	}
	tiff := []byte("MM\x00\x2a\x00\x00\x00\x08")           // big-endian TIFF, IFD0 at 8
	tiff = append(tiff, 0, 1)                              // one entry
	tiff = append(tiff, 0x01, 0x12, 0, 3, 0, 0, 0, 1)      // Orientation, SHORT, count 1
	tiff = append(tiff, 0, byte(orient), 0, 0, 0, 0, 0, 0) // value in 4 bytes, next IFD 0
	payload := append([]byte("Exif\x00\x00"), tiff...)
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(payload)+2))
	seg = append(seg, payload...)
	return append(append([]byte{0xFF, 0xD8}, seg...), out[2:]...)
}

func gifBytes(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := gif.Encode(&b, twoTone(40, 30), nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// tinyWebP is a 1×1 lossless WebP.
func tinyWebP(t *testing.T) []byte {
	b, err := base64.StdEncoding.DecodeString("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// hugePNGHeader is a valid PNG signature and IHDR declaring w×h, with no pixels.
func hugePNGHeader(w, h uint32) []byte {
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6 // 8-bit RGBA
	chunk := func(typ string, data []byte) []byte {
		c := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
		c = append(c, typ...)
		c = append(c, data...)
		return binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(append([]byte(typ), data...)))
	}
	b := []byte("\x89PNG\r\n\x1a\n")
	b = append(b, chunk("IHDR", ihdr)...)
	b = append(b, chunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})...)
	return append(b, chunk("IEND", nil)...)
}

func pdfBytes(size int) []byte {
	b := []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
	for len(b) < size {
		b = append(b, '%')
	}
	return b
}

const (
	xlsxTypes = `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>`
	docxTypes = `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`
	xlsmTypes = `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/xl/workbook.xml" ContentType="application/vnd.ms-excel.sheet.macroEnabled.main+xml"/></Types>`
)

type zipEntry struct {
	name string
	data []byte
}

func zipBytes(t *testing.T, entries ...zipEntry) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, e := range entries {
		w, err := zw.Create(e.name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(e.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func minimalXLSX(t *testing.T, extra ...zipEntry) []byte {
	return zipBytes(t, append([]zipEntry{
		{"[Content_Types].xml", []byte(xlsxTypes)},
		{"xl/workbook.xml", []byte(`<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets/></workbook>`)},
	}, extra...)...)
}

func minimalDOCX(t *testing.T) []byte {
	return zipBytes(t,
		zipEntry{"[Content_Types].xml", []byte(docxTypes)},
		zipEntry{"word/document.xml", []byte(`<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body/></w:document>`)},
	)
}

// ---- images ----

func TestUpload_LargePNGGetsThumbAndDimensions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	orig := pngBytes(t, 3000, 2000)
	a := e.upload(t, "车头.png", orig)
	if a.Mime != "image/png" || a.Width != 3000 || a.Height != 2000 || !a.HasThumb || a.Size != int64(len(orig)) {
		t.Fatalf("attachment = %+v", a)
	}
	if a.ID == 0 || a.CreatedBy != e.writer.UserID || a.StoreID != e.store1 || a.Name != "车头.png" {
		t.Fatalf("attachment = %+v", a)
	}

	got, r, err := e.svc.Open(e.ctx, e.reader, a.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	if b := readAll(t, r); !bytes.Equal(b, orig) || got.Mime != "image/png" {
		t.Fatalf("original: mime %s, %d bytes, want the uploaded %d", got.Mime, len(b), len(orig))
	}

	th, r, err := e.svc.Open(e.ctx, e.reader, a.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	b := readAll(t, r)
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("thumb is not a JPEG: %v", err)
	}
	if cfg.Width != 1600 || cfg.Height != 1067 || th.Width != 1600 || th.Height != 1067 {
		t.Fatalf("thumb %d×%d, reported %d×%d, want 1600×1067", cfg.Width, cfg.Height, th.Width, th.Height)
	}
	if th.Mime != "image/jpeg" || th.Name != "车头.jpg" || th.Size != int64(len(b)) {
		t.Fatalf("thumb = %+v", th)
	}
	// Original and thumb, content-addressed, nothing else.
	if f := e.files(t); len(f) != 2 {
		t.Fatalf("files on disk = %v, want 2", f)
	}
}

func TestUpload_SmallImageServesOriginalAsThumb(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	orig := jpegBytes(t, 800, 600, 0)
	a := e.upload(t, "damage.jpg", orig)
	if a.HasThumb || a.Width != 800 || a.Height != 600 {
		t.Fatalf("attachment = %+v", a)
	}
	got, r, err := e.svc.Open(e.ctx, e.writer, a.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	if b := readAll(t, r); !bytes.Equal(b, orig) || got.Name != "damage.jpg" {
		t.Fatalf("thumb of a small image should be the original")
	}
}

func TestUpload_ThumbFollowsEXIFOrientation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// Stored 3000×2000 with the left half red; orientation 6 means "turn a quarter
	// clockwise to display", so the photo is 2000×3000 with red at the top.
	a := e.upload(t, "licence.jpg", jpegBytes(t, 3000, 2000, 6))
	if a.Width != 2000 || a.Height != 3000 || !a.HasThumb {
		t.Fatalf("attachment = %+v, want 2000×3000 with thumb", a)
	}
	_, r, err := e.svc.Open(e.ctx, e.writer, a.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	img, err := jpeg.Decode(bytes.NewReader(readAll(t, r)))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 1067 || b.Dy() != 1600 {
		t.Fatalf("thumb %v, want 1067×1600", b)
	}
	isRed := func(x, y int) bool {
		r, g, b, _ := img.At(x, y).RGBA()
		return r > 0xc000 && g < 0x4000 && b < 0x4000
	}
	if !isRed(530, 200) || isRed(530, 1400) {
		t.Fatal("thumb not turned clockwise: want red on top, blue at the bottom")
	}
}

func TestUpload_AcceptsEachImageType(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tc := range []struct {
		name string
		data []byte
		mime string
		w, h int
	}{
		{"a.jpg", jpegBytes(t, 64, 48, 0), "image/jpeg", 64, 48},
		{"a.png", pngBytes(t, 64, 48), "image/png", 64, 48},
		{"a.gif", gifBytes(t), "image/gif", 40, 30},
		{"a.webp", tinyWebP(t), "image/webp", 1, 1},
	} {
		a := e.upload(t, tc.name, tc.data)
		if a.Mime != tc.mime || a.Width != tc.w || a.Height != tc.h || a.HasThumb {
			t.Errorf("%s: %+v, want %s %d×%d", tc.name, a, tc.mime, tc.w, tc.h)
		}
	}
}

func TestUpload_RefusesAbsurdDimensionsBeforeDecoding(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// 10000×5000 = 50 MP declared in a few bytes; decoding would need 200 MB.
	_, err := e.svc.Upload(e.ctx, e.writer, "widget", e.widget1, "big.png", bytes.NewReader(hugePNGHeader(10000, 5000)))
	wantField(t, err, "file", "attachment.dimensions")
	if n := e.count(t, `SELECT count(*) FROM attachment`); n != 0 {
		t.Fatalf("%d rows written", n)
	}
}

// ---- refused content ----

func TestUpload_RejectsRenamedExecutable(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	exe := append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"), bytes.Repeat([]byte{0}, 200)...)
	copy(exe[78:], "This program cannot be run in DOS mode.")
	_, err := e.svc.Upload(e.ctx, e.writer, "widget", e.widget1, "photo.jpg", bytes.NewReader(exe))
	wantField(t, err, "file", "attachment.type")
	if n := e.count(t, `SELECT count(*) FROM attachment`); n != 0 {
		t.Fatalf("%d rows written", n)
	}
	if f := e.files(t); len(f) != 0 {
		t.Fatalf("files left: %v", f)
	}
}

func TestUpload_RejectsActiveAndUnknownContent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	png := pngBytes(t, 10, 10)
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"page.jpg", []byte("<!DOCTYPE html><html><script>alert(document.cookie)</script></html>")},
		{"logo.png", []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="5"/></svg>`)},
		{"logo.svg", []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`)},
		{"poly.gif", []byte("GIF89a\x01\x00\x01\x00<html><script>alert(1)</script></html>")}, // a 1×1 GIF header on a page
		{"cut.png", png[:len(png)/2]}, // header fine, pixels missing
		{"notes.pdf", []byte("hello, this is text")},
		{"sound.webp", []byte("RIFF\x24\x00\x00\x00WAVEfmt ")},
		{"plain.xlsx", zipBytes(t, zipEntry{"readme.txt", []byte("hi")})},
		{"half.xlsx", zipBytes(t, zipEntry{"[Content_Types].xml", []byte(xlsxTypes)})}, // no workbook part
		{"macro.xlsx", zipBytes(t, zipEntry{"[Content_Types].xml", []byte(xlsmTypes)}, zipEntry{"xl/workbook.xml", []byte("<workbook/>")})},
		{"vba.xlsx", minimalXLSX(t, zipEntry{"xl/vbaProject.bin", []byte("\xd0\xcf\x11\xe0")})},
	} {
		_, err := e.svc.Upload(e.ctx, e.writer, "widget", e.widget1, tc.name, bytes.NewReader(tc.data))
		if fe := apperr.As(err).Fields["file"]; fe.Code != "attachment.type" {
			t.Errorf("%s: err = %v, want file:attachment.type", tc.name, err)
		}
	}
	if n := e.count(t, `SELECT count(*) FROM attachment`); n != 0 {
		t.Fatalf("%d rows written", n)
	}
}

func TestUpload_RejectsEmptyFile(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, err := e.svc.Upload(e.ctx, e.writer, "widget", e.widget1, "x.pdf", strings.NewReader(""))
	wantField(t, err, "file", "required")
}

// Not parallel: lowers MaxSize.
func TestUpload_RejectsOverLimitAndLeavesNoFile(t *testing.T) {
	e := newEnv(t)
	old := attach.MaxSize
	attach.MaxSize = 1000
	t.Cleanup(func() { attach.MaxSize = old })

	_, err := e.svc.Upload(e.ctx, e.writer, "widget", e.widget1, "big.pdf", bytes.NewReader(pdfBytes(1001)))
	ae := apperr.As(err)
	if ae.Kind != apperr.TooLarge || ae.Code != "attachment.too_large" || ae.Fields["file"].Params["max"] == nil {
		t.Fatalf("err = %#v, want too_large with max", ae)
	}
	if f := e.files(t); len(f) != 0 {
		t.Fatalf("files left: %v", f)
	}
	if n := e.count(t, `SELECT count(*) FROM attachment`); n != 0 {
		t.Fatalf("%d rows written", n)
	}
	// Exactly at the limit is fine.
	if a := e.upload(t, "limit.pdf", pdfBytes(1000)); a.Size != 1000 {
		t.Fatalf("size = %d", a.Size)
	}
}

func TestUpload_RejectsZipBomb(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// 150 MiB of zeros packs into about 150 KB: over the 100 MiB total and the 100× ratio.
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, x := range []zipEntry{{"[Content_Types].xml", []byte(xlsxTypes)}, {"xl/workbook.xml", []byte("<workbook/>")}} {
		w, _ := zw.Create(x.name)
		w.Write(x.data)
	}
	w, _ := zw.Create("xl/worksheets/sheet1.xml")
	zero := make([]byte, 1<<20)
	for range 150 {
		w.Write(zero)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := e.svc.Upload(e.ctx, e.writer, "widget", e.widget1, "report.xlsx", bytes.NewReader(b.Bytes()))
	wantField(t, err, "file", "attachment.unsafe_archive")

	// A small archive that still declares over 100× its size is refused too.
	ratio := minimalXLSX(t, zipEntry{"xl/sharedStrings.xml", make([]byte, 2<<20)})
	_, err = e.svc.Upload(e.ctx, e.writer, "widget", e.widget1, "ratio.xlsx", bytes.NewReader(ratio))
	wantField(t, err, "file", "attachment.unsafe_archive")

	// Declared sizes whose sum overflows 64 bits must not wrap round to "small".
	b.Reset()
	zw = zip.NewWriter(&b)
	for _, x := range []zipEntry{{"[Content_Types].xml", []byte(xlsxTypes)}, {"xl/workbook.xml", []byte("<workbook/>")}} {
		w, _ := zw.Create(x.name)
		w.Write(x.data)
	}
	for _, name := range []string{"xl/a.bin", "xl/b.bin"} {
		w, err := zw.CreateRaw(&zip.FileHeader{Name: name, Method: zip.Store, CompressedSize64: 1, UncompressedSize64: 1 << 63})
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte{0})
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Upload(e.ctx, e.writer, "widget", e.widget1, "wrap.xlsx", bytes.NewReader(b.Bytes()))
	wantField(t, err, "file", "attachment.unsafe_archive")
	if n := e.count(t, `SELECT count(*) FROM attachment`); n != 0 {
		t.Fatalf("%d rows written", n)
	}
}

// Not parallel: lowers MaxZipUncompressed.
func TestUpload_RejectsZipDeclaringTooMuchInTotal(t *testing.T) {
	e := newEnv(t)
	// Incompressible content: the ratio is about 1, only the total can refuse it.
	// Two entries, each under the lowered limit, together over it.
	noise := make([]byte, 1400<<10)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range noise {
		noise[i] = byte(rng.Uint32())
	}
	x := minimalXLSX(t, zipEntry{"xl/media/image1.bin", noise[:700<<10]}, zipEntry{"xl/media/image2.bin", noise[700<<10:]})
	e.upload(t, "ok.xlsx", x)

	old := attach.MaxZipUncompressed
	attach.MaxZipUncompressed = 1 << 20
	t.Cleanup(func() { attach.MaxZipUncompressed = old })
	_, err := e.svc.Upload(e.ctx, e.writer, "widget", e.widget1, "big.xlsx", bytes.NewReader(x))
	wantField(t, err, "file", "attachment.unsafe_archive")
}

func TestUpload_AcceptsMinimalXLSXAndDOCX(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	x := e.upload(t, "库存.xlsx", minimalXLSX(t))
	if x.Mime != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" || x.Width != 0 || x.HasThumb {
		t.Fatalf("xlsx = %+v", x)
	}
	d := e.upload(t, "合同", minimalDOCX(t)) // no extension: the type's is added
	if d.Mime != "application/vnd.openxmlformats-officedocument.wordprocessingml.document" || d.Name != "合同.docx" {
		t.Fatalf("docx = %+v", d)
	}
	p := e.upload(t, "scan.PDF", pdfBytes(0))
	if p.Mime != "application/pdf" || p.Name != "scan.PDF" {
		t.Fatalf("pdf = %+v", p)
	}
}

// ---- names and storage ----

func TestUpload_SanitisesDisplayName(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	long := strings.Repeat("长", 300) + ".pdf"
	for _, tc := range []struct{ in, want string }{
		{`C:\fakepath\报价单.pdf`, "报价单.pdf"},
		{"../../etc/passwd", "passwd.pdf"},
		{"a\x00b\r\n\tc.pdf", "abc.pdf"},
		{"invoice\u202Efdp.exe", "invoicefdp.exe.pdf"}, // no right-to-left override; real type appended
		{"scan.jpg", "scan.jpg.pdf"},
		{"  ..  ", "file.pdf"},
		{"bad\xffutf8.pdf", "badutf8.pdf"},
		{long, strings.Repeat("长", 196) + ".pdf"},
	} {
		a := e.upload(t, tc.in, pdfBytes(0))
		if a.Name != tc.want {
			t.Errorf("name %q stored as %q, want %q", tc.in, a.Name, tc.want)
		}
		if n := utf8.RuneCountInString(a.Name); n > 200 {
			t.Errorf("name has %d runes", n)
		}
	}
}

func TestUpload_IdenticalContentIsStoredOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.upload(t, "one.pdf", pdfBytes(0))
	b := e.upload(t, "two.pdf", pdfBytes(0))
	if a.ID == b.ID || a.SHA256 != b.SHA256 {
		t.Fatalf("a=%+v b=%+v", a, b)
	}
	f := e.files(t)
	if len(f) != 1 || filepath.Base(f[0]) != a.SHA256 || filepath.Base(filepath.Dir(f[0])) != a.SHA256[:2] {
		t.Fatalf("files = %v, want one at files/%s/%s", f, a.SHA256[:2], a.SHA256)
	}
	if fi, err := os.Stat(f[0]); err != nil || fi.Size() != a.Size {
		t.Fatalf("stat = %v, %v", fi, err)
	}
}

// ---- access ----

// failReader fails the test when the service reads the body of a refused upload.
type failReader struct{ t *testing.T }

func (r failReader) Read([]byte) (int, error) {
	r.t.Error("body read before the access check")
	return 0, io.EOF
}

func TestUpload_RefusesActorWithoutAccessAndWritesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tc := range []struct {
		name   string
		a      auth.Actor
		widget int64
		want   apperr.Kind
	}{
		{"no write permission", e.reader, e.widget1, apperr.Forbidden},
		{"other store, store scope", actor(30, auth.ScopeStore, e.store2, auth.PermCustomerRead, auth.PermCustomerWrite), e.widget1, apperr.NotFound},
		{"own scope, someone else's record", actor(31, auth.ScopeOwn, e.store1, auth.PermCustomerRead, auth.PermCustomerWrite), e.widget1, apperr.NotFound},
		{"record does not exist", e.writer, 999, apperr.NotFound},
	} {
		_, err := e.svc.Upload(e.ctx, tc.a, "widget", tc.widget, "x.pdf", failReader{t})
		if k := apperr.KindOf(err); k != tc.want {
			t.Errorf("%s: err = %v, want %s", tc.name, err, tc.want)
		}
	}
	if n := e.count(t, `SELECT count(*) FROM attachment`) + e.count(t, `SELECT count(*) FROM audit_log`); n != 0 {
		t.Fatalf("%d rows written", n)
	}
	if f := e.files(t); len(f) != 0 {
		t.Fatalf("files left: %v", f)
	}
	// The owner of the record in own scope may.
	own := actor(10, auth.ScopeOwn, e.store1, auth.PermCustomerWrite)
	if _, err := e.svc.Upload(e.ctx, own, "widget", e.widget1, "x.pdf", bytes.NewReader(pdfBytes(0))); err != nil {
		t.Fatal(err)
	}
}

func TestUpload_UnknownEntityIsFieldError(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, err := e.svc.Upload(e.ctx, e.writer, "customer", 1, "x.pdf", bytes.NewReader(pdfBytes(0)))
	wantField(t, err, "entity", "invalid_format")
	_, err = e.svc.List(e.ctx, e.writer, "nope", 1)
	wantField(t, err, "entity", "invalid_format")
}

func TestOpenAndList_FollowTheRecordsReadAccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.upload(t, "x.pdf", pdfBytes(0))
	other := actor(30, auth.ScopeStore, e.store2, auth.PermCustomerRead, auth.PermCustomerWrite)
	noRead := actor(32, auth.ScopeGroup, e.store1, auth.PermAttachWrite)
	for _, tc := range []struct {
		name string
		a    auth.Actor
		want apperr.Kind
	}{
		{"other store", other, apperr.NotFound},
		{"no read permission", noRead, apperr.Forbidden},
	} {
		if _, _, err := e.svc.Open(e.ctx, tc.a, a.ID, false); apperr.KindOf(err) != tc.want {
			t.Errorf("open, %s: err = %v, want %s", tc.name, err, tc.want)
		}
		if _, err := e.svc.List(e.ctx, tc.a, "widget", e.widget1); apperr.KindOf(err) != tc.want {
			t.Errorf("list, %s: err = %v, want %s", tc.name, err, tc.want)
		}
		if err := e.svc.Delete(e.ctx, tc.a, a.ID); apperr.KindOf(err) == "" || err == nil {
			t.Errorf("delete, %s: allowed", tc.name)
		}
	}
	// Read permission is not write permission.
	if err := e.svc.Delete(e.ctx, e.reader, a.ID); apperr.KindOf(err) != apperr.Forbidden {
		t.Fatalf("delete by reader: err = %v, want forbidden", err)
	}
	items, err := e.svc.List(e.ctx, e.reader, "widget", e.widget1)
	if err != nil || len(items) != 1 || items[0].ID != a.ID {
		t.Fatalf("list = %+v, %v", items, err)
	}
}

func TestOpen_DeletedAttachmentIsNotFound(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	keep := e.upload(t, "keep.pdf", pdfBytes(0))
	gone := e.upload(t, "gone.pdf", pdfBytes(10))
	if err := e.svc.Delete(e.ctx, e.writer, gone.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.Open(e.ctx, e.writer, gone.ID, false); apperr.KindOf(err) != apperr.NotFound {
		t.Fatalf("open deleted: err = %v, want not found", err)
	}
	if err := e.svc.Delete(e.ctx, e.writer, gone.ID); apperr.KindOf(err) != apperr.NotFound {
		t.Fatalf("delete twice: err = %v, want not found", err)
	}
	items, err := e.svc.List(e.ctx, e.writer, "widget", e.widget1)
	if err != nil || len(items) != 1 || items[0].ID != keep.ID {
		t.Fatalf("list = %+v, %v; want only %d", items, err, keep.ID)
	}
	if n := e.count(t, `SELECT count(*) FROM attachment WHERE id = ? AND deleted_at IS NOT NULL`, gone.ID); n != 1 {
		t.Fatal("delete is not soft: the row is gone")
	}
}

func TestUploadAndDelete_WriteAuditRows(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.upload(t, "合同.pdf", pdfBytes(0))
	if err := e.svc.Delete(e.ctx, e.writer, a.ID); err != nil {
		t.Fatal(err)
	}
	rows, err := e.d.R.Query(`SELECT action, user_id, store_id, coalesce(before_json, ''), coalesce(after_json, '') FROM audit_log WHERE entity = 'widget' AND entity_id = ? ORDER BY id`, "1")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var action, before, after string
		var user, store int64
		if err := rows.Scan(&action, &user, &store, &before, &after); err != nil {
			t.Fatal(err)
		}
		if user != e.writer.UserID || store != e.store1 {
			t.Errorf("%s: user %d store %d", action, user, store)
		}
		got = append(got, action+" "+before+" "+after)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !strings.HasPrefix(got[0], "upload  {") || !strings.HasPrefix(got[1], "delete {") {
		t.Fatalf("audit rows = %q", got)
	}
	for _, g := range got {
		if !strings.Contains(g, `"name":"合同.pdf"`) || !strings.Contains(g, `"mime":"application/pdf"`) || !strings.Contains(g, `"size":`) {
			t.Errorf("audit row %q lacks name, mime or size", g)
		}
	}
	if v, err := audit.Verify(e.ctx, e.d.R); err != nil || !v.OK {
		t.Fatalf("audit chain: %+v, %v", v, err)
	}
}

// ---- Content-Disposition ----

func TestContentDisposition_ChineseNameRoundTrips(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		inline bool
		name   string
	}{
		{true, "行驶证 正面.jpg"},
		{false, "2026年3月 库存表.xlsx"},
		{false, `a"b;c\d%20e.pdf`},
		{true, "plain.pdf"},
	} {
		h := attach.ContentDisposition(tc.inline, tc.name)
		for i := 0; i < len(h); i++ {
			if h[i] < 0x20 || h[i] >= 0x7f {
				t.Fatalf("header %q has a non-ASCII byte", h)
			}
		}
		disp, params, err := mime.ParseMediaType(h)
		if err != nil {
			t.Fatalf("%q: %v", h, err)
		}
		want := "attachment"
		if tc.inline {
			want = "inline"
		}
		if disp != want || params["filename"] != tc.name {
			t.Errorf("%q parsed as %s %q, want %s %q", h, disp, params["filename"], want, tc.name)
		}
	}
	if h := attach.ContentDisposition(true, "行驶证.jpg"); !strings.Contains(h, `filename*=UTF-8''%E8%A1%8C%E9%A9%B6%E8%AF%81.jpg`) {
		t.Fatalf("header = %s", h)
	}
}
