package attach

import (
	"path"
	"slices"
	"strings"
	"unicode"
)

// maxNameRunes bounds a display name.
const maxNameRunes = 200

// sanitizeName turns the client's file name into a display name: the base name
// only (browsers have sent "C:\fakepath\x.jpg"), valid UTF-8 without control or
// format characters (a right-to-left override can make "gpj.exe" look like
// "exe.jpg"), no leading/trailing spaces or trailing dots, at most maxNameRunes
// runes, and an extension that matches the detected type.
func sanitizeName(name string, k kind) string {
	name = strings.ToValidUTF8(name, "")
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, name)
	name = strings.TrimRight(strings.TrimSpace(name), ". ")
	if name == "" {
		name = "file"
	}
	ext := strings.ToLower(path.Ext(name))
	if !slices.Contains(k.exts, ext) {
		ext = k.exts[0]
		name += ext
	}
	if r := []rune(name); len(r) > maxNameRunes {
		base := []rune(strings.TrimSuffix(name, name[len(name)-len(ext):]))
		name = strings.TrimSpace(string(base[:maxNameRunes-len([]rune(ext))])) + name[len(name)-len(ext):]
	}
	return name
}

// thumbName is the name of an image's JPEG thumbnail.
func thumbName(name string) string {
	return strings.TrimSuffix(name, path.Ext(name)) + ".jpg"
}

// inline reports whether a browser should show the type rather than save it.
func inline(mime string) bool {
	return strings.HasPrefix(mime, "image/") || mime == mimePDF
}

// ContentDisposition returns the Content-Disposition header value for sending a
// file called name (RFC 6266): "inline" or "attachment", an ASCII-only filename
// for old clients, and the exact UTF-8 name as filename* (RFC 5987), so Chinese
// names survive the download.
func ContentDisposition(inline bool, name string) string {
	typ := "attachment"
	if inline {
		typ = "inline"
	}
	var fallback, enc strings.Builder
	for _, r := range name {
		if r < 0x20 || r >= 0x7f || r == '"' || r == '\\' || r == '%' {
			fallback.WriteByte('_')
		} else {
			fallback.WriteRune(r)
		}
	}
	const hexDigits = "0123456789ABCDEF"
	for i := 0; i < len(name); i++ {
		c := name[i]
		if isAttrChar(c) {
			enc.WriteByte(c)
		} else {
			enc.WriteByte('%')
			enc.WriteByte(hexDigits[c>>4])
			enc.WriteByte(hexDigits[c&0xF])
		}
	}
	return typ + `; filename="` + fallback.String() + `"; filename*=UTF-8''` + enc.String()
}

// isAttrChar reports whether c may appear unencoded in an RFC 5987 value.
func isAttrChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$&+-.^_`|~", c) >= 0
}
