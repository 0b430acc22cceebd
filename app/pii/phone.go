package pii

import (
	"strings"
	"unicode"

	"dealerdesk/app/apperr"
)

// PhoneKind says what sort of number a Phone is.
type PhoneKind string

// The kinds of phone number NormalizePhone accepts.
const (
	PhoneMobile   PhoneKind = "mobile"   // 11 digits, 1[3-9]…
	PhoneLandline PhoneKind = "landline" // trunk 0 + area code + 7–8 digit local number
	PhoneService  PhoneKind = "service"  // 400/800 + 7 digits
)

// Phone is a normalized Chinese phone number.
type Phone struct {
	// Number holds digits only: 13800138000, 057187654321 (landlines keep the trunk
	// 0 and the area code, also when typed as +86 571 …), 4008208820.
	Number string
	// Ext is the extension typed after a landline or service number (转123, ext 123,
	// 0571-87654321-123), digits only; "" when there is none. It is kept apart from
	// Number so that searching, de-duplicating and dialling use the number alone.
	Ext  string
	Kind PhoneKind
}

// maxExtDigits bounds an extension: switchboards use 1–6 digits, and anything
// longer is more likely a second number glued on.
const maxExtDigits = 6

// NormalizePhone turns a Chinese phone number typed in any common form into a
// Phone. It accepts everything NormalizeMobile accepts (and gives the same digits
// for it), landlines with their area code (0571-87654321, (0571)87654321,
// 0571 8765 4321, +86 571 8765 4321, 010-12345678), optionally followed by an
// extension (转123, 分机123, ext 123, x123, #123, or a trailing -123 after a
// complete number), and 400/800 service numbers.
//
// The error is an *apperr.Error of kind Invalid whose Code says why the number was
// refused, to be reported on the caller's field:
//
//	if _, err := pii.NormalizePhone(in.Phone); err != nil {
//		fields.Add("phone", apperr.As(err).Code)
//	}
func NormalizePhone(s string) (Phone, error) {
	main, ext, hasExt := splitExtension(strings.Map(foldWidth, s))
	var b strings.Builder
	var groups []int // digit count of each run of digits, to recognise a trailing -123 extension
	intl, inGroup := false, false
	for _, r := range main {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
			if !inGroup {
				groups = append(groups, 0)
				inGroup = true
			}
			groups[len(groups)-1]++
			continue
		case r == '+':
			// as in NormalizeMobile: a '+' may only come before the first digit
			if intl || b.Len() > 0 {
				return Phone{}, apperr.New(apperr.Invalid, "phone.invalid_char")
			}
			intl = true
		case isPhoneSeparator(r):
		default:
			return Phone{}, apperr.New(apperr.Invalid, "phone.invalid_char")
		}
		inGroup = false
	}
	d := b.String()
	if d == "" {
		if hasExt || intl {
			return Phone{}, apperr.New(apperr.Invalid, "phone.too_short")
		}
		return Phone{}, apperr.New(apperr.Invalid, "required")
	}
	if hasExt {
		if ext == "" || len(ext) > maxExtDigits {
			return Phone{}, apperr.New(apperr.Invalid, "phone.extension")
		}
	}
	p, err := classifyDigits(d, intl)
	if err != nil && !hasExt && len(groups) > 1 {
		// 0571-87654321-123: the last group is an extension when the number without
		// it is complete. Only tried when the whole does not make a number, so
		// 0571 8765 4321 stays one number.
		last := groups[len(groups)-1]
		if last <= maxExtDigits {
			if q, qerr := classifyDigits(d[:len(d)-last], intl); qerr == nil && q.Kind != PhoneMobile {
				p, err, ext, hasExt = q, nil, d[len(d)-last:], true
			}
		}
	}
	if err != nil {
		return Phone{}, err
	}
	if hasExt {
		if p.Kind == PhoneMobile {
			return Phone{}, apperr.New(apperr.Invalid, "phone.extension")
		}
		p.Ext = ext
	}
	return p, nil
}

// classifyDigits recognises the digits of a number (without extension); intl says
// the number was written with a leading '+'.
func classifyDigits(d string, intl bool) (Phone, error) {
	switch {
	case intl:
		if !strings.HasPrefix(d, "86") {
			return Phone{}, apperr.New(apperr.Invalid, "phone.foreign")
		}
		return classifyInternational(d[2:])
	case strings.HasPrefix(d, "0086"):
		return classifyInternational(d[4:])
	case strings.HasPrefix(d, "00"):
		return Phone{}, apperr.New(apperr.Invalid, "phone.foreign")
	}
	p, err := classifyNational(d)
	if err != nil && strings.HasPrefix(d, "86") && len(d) >= 12 {
		// 86 13800138000 / 86 571 87654321: the country code without '+' or 00.
		// Tried second so that a national number starting with 86 wins.
		if q, qerr := classifyInternational(d[2:]); qerr == nil {
			return q, nil
		}
	}
	return p, err
}

// classifyInternational recognises a number written after the country code 86,
// where landlines drop their trunk 0 (+86 571 8765 4321, +86 10 1234 5678). A
// "(0)" some people keep (+86 (0)571 …) is tolerated.
func classifyInternational(n string) (Phone, error) {
	if n == "" {
		return Phone{}, apperr.New(apperr.Invalid, "phone.too_short")
	}
	n = strings.TrimPrefix(n, "0")
	switch {
	case strings.HasPrefix(n, "10"): // Beijing; no mobile starts with 10
		n = "0" + n
	case strings.HasPrefix(n, "1"):
	case isServicePrefix(n) && len(n) == 10:
	default:
		n = "0" + n
	}
	return classifyNational(n)
}

// classifyNational recognises a number in its national form: a mobile, a landline
// with trunk 0 and area code, or a 400/800 service number.
func classifyNational(d string) (Phone, error) {
	switch {
	case d[0] == '1':
		switch {
		case len(d) < 11:
			return Phone{}, apperr.New(apperr.Invalid, "phone.too_short")
		case len(d) > 11:
			return Phone{}, apperr.New(apperr.Invalid, "phone.too_long")
		case d[1] < '3' || d[1] > '9':
			return Phone{}, apperr.New(apperr.Invalid, "phone.invalid")
		}
		return Phone{Number: d, Kind: PhoneMobile}, nil
	case d[0] == '0':
		return classifyLandline(d)
	case isServicePrefix(d):
		switch {
		case len(d) == 10:
			return Phone{Number: d, Kind: PhoneService}, nil
		case len(d) == 7 || len(d) == 8:
			return Phone{}, apperr.New(apperr.Invalid, "phone.no_area_code")
		case len(d) < 10:
			return Phone{}, apperr.New(apperr.Invalid, "phone.too_short")
		}
		return Phone{}, apperr.New(apperr.Invalid, "phone.too_long")
	}
	switch {
	case len(d) == 7 || len(d) == 8:
		// a local landline number: it cannot be dialled or de-duplicated without its city
		return Phone{}, apperr.New(apperr.Invalid, "phone.no_area_code")
	case len(d) < 7:
		return Phone{}, apperr.New(apperr.Invalid, "phone.too_short")
	case len(d) > 12:
		return Phone{}, apperr.New(apperr.Invalid, "phone.too_long")
	}
	return Phone{}, apperr.New(apperr.Invalid, "phone.unrecognized")
}

// classifyLandline checks trunk 0 + area code + local number. Area codes are 010
// and 020–029 (3 digits, the largest cities) or 0300–0999 (4 digits); local numbers
// have 7 or 8 digits. Real local numbers start with 2–9, but only a leading 0 is
// refused: old records and sample data are full of 010-12345678.
func classifyLandline(d string) (Phone, error) {
	if len(d) < 2 {
		return Phone{}, apperr.New(apperr.Invalid, "phone.too_short")
	}
	area := 4
	switch d[1] {
	case '0':
		return Phone{}, apperr.New(apperr.Invalid, "phone.landline") // 00… is the international prefix, never an area code
	case '1':
		if len(d) >= 3 && d[2] != '0' {
			return Phone{}, apperr.New(apperr.Invalid, "phone.landline") // 011–019 are not area codes
		}
		area = 3
	case '2':
		area = 3
	}
	local := len(d) - area
	switch {
	case local < 7:
		return Phone{}, apperr.New(apperr.Invalid, "phone.too_short")
	case local > 8:
		return Phone{}, apperr.New(apperr.Invalid, "phone.too_long")
	case d[area] == '0':
		return Phone{}, apperr.New(apperr.Invalid, "phone.landline")
	}
	return Phone{Number: d, Kind: PhoneLandline}, nil
}

func isServicePrefix(d string) bool {
	return strings.HasPrefix(d, "400") || strings.HasPrefix(d, "800")
}

// foldWidth maps full-width ASCII (digits, ＋, －, （, ）, ｅｘｔ, ＃) and the
// ideographic space to their ASCII forms, as Chinese input methods type them.
func foldWidth(r rune) rune {
	switch {
	case r >= '！' && r <= '～':
		return r - '！' + '!'
	case r == '\u3000':
		return ' '
	}
	return r
}

// isPhoneSeparator reports whether r may sit between the digits of a number.
func isPhoneSeparator(r rune) bool {
	switch r {
	case '-', '.', '(', ')', '\u2010', '\u2011', '\u2012', '\u2013', '\u2014', '\u2212':
		return true
	}
	return unicode.IsSpace(r)
}

// extMarkers introduce an extension; the ASCII ones match in any case.
var extMarkers = []string{"转", "轉", "分机", "ext.", "ext", "x", "#", ","}

// splitExtension cuts s (already width-folded) at the first extension marker. ext
// holds the digits after it; when anything but digits and separators follows the
// marker, ext is "" and hasExt true, so that the caller refuses the number.
func splitExtension(s string) (main, ext string, hasExt bool) {
	cut, markerLen := -1, 0
scan:
	for i := range s { // rune starts only
		for _, m := range extMarkers {
			if len(s)-i >= len(m) && strings.EqualFold(s[i:i+len(m)], m) {
				cut, markerLen = i, len(m)
				break scan
			}
		}
	}
	if cut < 0 {
		return s, "", false
	}
	main, rest := s[:cut], s[cut+markerLen:]
	digits := make([]byte, 0, len(rest))
	for _, r := range rest {
		switch {
		case r >= '0' && r <= '9':
			digits = append(digits, byte(r))
		case r == ':' || r == '.' || isPhoneSeparator(r):
		default:
			return main, "", true
		}
	}
	return main, string(digits), true
}

// PhoneSuffixKey returns the digits of p in reverse order (full-width digits
// folded, everything else dropped). Stored in an indexed column, it turns a
// search on the last N digits into a prefix search: numbers ending in 4321 are
// those whose key starts with "1234".
func PhoneSuffixKey(p string) string {
	digits := make([]byte, 0, len(p))
	for _, r := range p {
		r = foldWidth(r)
		if r >= '0' && r <= '9' {
			digits = append(digits, byte(r))
		}
	}
	for i, j := 0, len(digits)-1; i < j; i, j = i+1, j-1 {
		digits[i], digits[j] = digits[j], digits[i]
	}
	return string(digits)
}
