package attach

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"strings"

	"golang.org/x/image/draw"
	"golang.org/x/image/webp"

	"dealerdesk/app/apperr"
)

// Limits on what the content may make the server do. Variables so tests can lower them.
var (
	// MaxPixels refuses images whose header declares more pixels (decoding one
	// takes 4 bytes a pixel).
	MaxPixels int64 = 40_000_000
	// MaxZipUncompressed refuses an XLSX/DOCX whose directory declares more bytes in total.
	MaxZipUncompressed int64 = 100 << 20
)

const (
	// MaxZipRatio refuses an XLSX/DOCX declaring more than this many times its own size.
	MaxZipRatio = 100
	// ThumbSize is the long side of the phone-sized copy of larger images.
	ThumbSize = 1600

	thumbQuality  = 82
	maxZipEntries = 10_000

	mimeJPEG = "image/jpeg"
	mimePDF  = "application/pdf"
	mimeXLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	mimeDOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
)

// kind is one allowed file type.
type kind struct {
	mime   string
	exts   []string // accepted name extensions, the first is the canonical one
	image  bool
	config func(io.Reader) (image.Config, error)
	decode func(io.Reader) (image.Image, error)
}

var (
	kindJPEG = kind{mime: mimeJPEG, exts: []string{".jpg", ".jpeg", ".jpe", ".jfif"}, image: true, config: jpeg.DecodeConfig, decode: jpeg.Decode}
	kindPNG  = kind{mime: "image/png", exts: []string{".png"}, image: true, config: png.DecodeConfig, decode: png.Decode}
	kindGIF  = kind{mime: "image/gif", exts: []string{".gif"}, image: true, config: gif.DecodeConfig, decode: gif.Decode}
	kindWebP = kind{mime: "image/webp", exts: []string{".webp"}, image: true, config: webp.DecodeConfig, decode: webp.Decode}
	kindPDF  = kind{mime: mimePDF, exts: []string{".pdf"}}
	kindXLSX = kind{mime: mimeXLSX, exts: []string{".xlsx"}}
	kindDOCX = kind{mime: mimeDOCX, exts: []string{".docx"}}
)

func errType() error { return apperr.Field("file", "attachment.type") }

// detect decides the type from the leading bytes (and, for a zip, its directory).
func detect(data []byte) (kind, error) {
	switch {
	case bytes.HasPrefix(data, []byte{0xFF, 0xD8, 0xFF}):
		return kindJPEG, nil
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return kindPNG, nil
	case bytes.HasPrefix(data, []byte("GIF87a")), bytes.HasPrefix(data, []byte("GIF89a")):
		return kindGIF, nil
	case len(data) >= 12 && bytes.HasPrefix(data, []byte("RIFF")) && string(data[8:12]) == "WEBP":
		return kindWebP, nil
	case bytes.HasPrefix(data, []byte("%PDF-")):
		return kindPDF, nil
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		return detectOffice(data)
	}
	return kind{}, errType()
}

// detectOffice accepts a zip that is an XLSX or DOCX: [Content_Types].xml naming
// the main part of a workbook or document, and that part present. It reads the
// central directory only, refusing archives that declare too much (zip bombs)
// before inflating the one small entry it needs. Macro-enabled files are refused.
func detectOffice(data []byte) (kind, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil { // also zip.ErrInsecurePath: no Office file names a part "../x"
		return kind{}, errType()
	}
	if len(zr.File) > maxZipEntries {
		return kind{}, apperr.Field("file", "attachment.unsafe_archive")
	}
	var total uint64
	names := map[string]*zip.File{}
	for _, f := range zr.File {
		if f.UncompressedSize64 > uint64(MaxZipUncompressed) {
			return kind{}, apperr.Field("file", "attachment.unsafe_archive")
		}
		total += f.UncompressedSize64 // cannot overflow: each term is bounded above
		// Part names in OPC packages compare case-insensitively.
		name := strings.ToLower(f.Name)
		names[name] = f
		if strings.HasSuffix(name, "vbaproject.bin") {
			return kind{}, errType()
		}
	}
	if total > uint64(MaxZipUncompressed) || total > MaxZipRatio*uint64(len(data)) {
		return kind{}, apperr.Field("file", "attachment.unsafe_archive")
	}
	ct, ok := names["[content_types].xml"]
	if !ok {
		return kind{}, errType()
	}
	rc, err := ct.Open()
	if err != nil {
		return kind{}, errType()
	}
	types, err := io.ReadAll(io.LimitReader(rc, 1<<20))
	rc.Close()
	if err != nil {
		return kind{}, errType()
	}
	t := strings.ToLower(string(types))
	switch {
	case strings.Contains(t, "macroenabled"):
		return kind{}, errType()
	case names["xl/workbook.xml"] != nil && strings.Contains(t, "spreadsheetml.sheet.main+xml"):
		return kindXLSX, nil
	case names["word/document.xml"] != nil && strings.Contains(t, "wordprocessingml.document.main+xml"):
		return kindDOCX, nil
	}
	return kind{}, errType()
}

// thumbSize returns the size of the phone-sized copy of a w×h image (w×h itself
// when it is small enough). It is symmetric, so it gives the same answer before
// and after an EXIF rotation swaps the sides.
func thumbSize(w, h int) (int, int) {
	long := max(w, h)
	if long <= ThumbSize {
		return w, h
	}
	scale := func(v int) int { return max(1, (v*ThumbSize+long/2)/long) }
	return scale(w), scale(h)
}

// makeThumb scales img to thumbSize with Catmull-Rom over white (JPEG has no
// alpha), turns it upright by the EXIF orientation, and encodes it as JPEG.
func makeThumb(img image.Image, orient int) ([]byte, error) {
	b := img.Bounds()
	tw, th := thumbSize(b.Dx(), b.Dy())
	dst := image.NewRGBA(image.Rect(0, 0, tw, th))
	op := draw.Src
	if o, ok := img.(interface{ Opaque() bool }); !ok || !o.Opaque() {
		draw.Draw(dst, dst.Bounds(), image.White, image.Point{}, draw.Src)
		op = draw.Over
	}
	draw.CatmullRom.Scale(dst, dst.Bounds(), img, b, op, nil)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, orientRGBA(dst, orient), &jpeg.Options{Quality: thumbQuality}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// orientRGBA returns src turned as EXIF orientation o (1–8) says to display it.
func orientRGBA(src *image.RGBA, o int) *image.RGBA {
	if o < 2 || o > 8 {
		return src
	}
	w, h := src.Bounds().Dx(), src.Bounds().Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var dx, dy int
			switch o {
			case 2: // mirrored
				dx, dy = w-1-x, y
			case 3: // upside down
				dx, dy = w-1-x, h-1-y
			case 4: // mirrored upside down
				dx, dy = x, h-1-y
			case 5: // transposed
				dx, dy = y, x
			case 6: // needs a quarter turn clockwise
				dx, dy = h-1-y, x
			case 7: // transversed
				dx, dy = h-1-y, w-1-x
			case 8: // needs a quarter turn anticlockwise
				dx, dy = y, w-1-x
			}
			si := src.PixOffset(x, y)
			di := dst.PixOffset(dx, dy)
			copy(dst.Pix[di:di+4], src.Pix[si:si+4])
		}
	}
	return dst
}

// jpegOrientation returns the EXIF orientation (1–8) of a JPEG, 1 when it has
// none. Phones store photos sideways and set this tag; browsers honour it for the
// original, so the thumbnail must be turned the same way.
func jpegOrientation(b []byte) int {
	i := 2 // after SOI
	for i+4 <= len(b) {
		if b[i] != 0xFF {
			return 1
		}
		marker := b[i+1]
		if marker == 0xFF { // fill byte
			i++
			continue
		}
		if marker == 0xDA || marker == 0xD9 { // start of scan, end of image: no more metadata
			return 1
		}
		if marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7) {
			i += 2
			continue
		}
		n := int(binary.BigEndian.Uint16(b[i+2:]))
		if n < 2 || i+2+n > len(b) {
			return 1
		}
		seg := b[i+4 : i+2+n]
		if marker == 0xE1 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
			return exifOrientation(seg[6:])
		}
		i += 2 + n
	}
	return 1
}

// exifOrientation reads tag 0x0112 of IFD0 of a TIFF-structured EXIF block.
func exifOrientation(t []byte) int {
	if len(t) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 1
	}
	if bo.Uint16(t[2:]) != 42 {
		return 1
	}
	off := int(bo.Uint32(t[4:]))
	if off < 8 || off+2 > len(t) {
		return 1
	}
	n := int(bo.Uint16(t[off:]))
	for e := off + 2; n > 0 && e+12 <= len(t); e, n = e+12, n-1 {
		if bo.Uint16(t[e:]) != 0x0112 {
			continue
		}
		if bo.Uint16(t[e+2:]) != 3 { // SHORT
			return 1
		}
		if v := int(bo.Uint16(t[e+8:])); v >= 1 && v <= 8 {
			return v
		}
		return 1
	}
	return 1
}
