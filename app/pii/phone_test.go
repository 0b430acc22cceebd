package pii_test

import (
	"strings"
	"testing"

	"dealerdesk/app/apperr"
	"dealerdesk/app/pii"
)

func TestNormalizePhone_RecognisesMobilesLandlinesAndServiceNumbers(t *testing.T) {
	t.Parallel()
	const (
		mobile   = pii.PhoneMobile
		landline = pii.PhoneLandline
		service  = pii.PhoneService
	)
	cases := []struct {
		in   string
		want string // normalized number, or the error code when refused
		kind pii.PhoneKind
		ext  string
	}{
		// mobiles, in every form NormalizeMobile accepts
		{"13800138000", "13800138000", mobile, ""},
		{"+86 138 0013 8000", "13800138000", mobile, ""},
		{"+8613912345678", "13912345678", mobile, ""},
		{"0086-13800138000", "13800138000", mobile, ""},
		{"8613800138000", "13800138000", mobile, ""},
		{"86 138 0013 8000", "13800138000", mobile, ""},
		{"138-0013-8000", "13800138000", mobile, ""},
		{"(138) 0013.8000", "13800138000", mobile, ""},
		{"(+86) 138 0013 8000", "13800138000", mobile, ""},
		{" 19912345678\t", "19912345678", mobile, ""},
		{"１３８００１３８０００", "13800138000", mobile, ""},
		{"１３８　００１３　８０００", "13800138000", mobile, ""},
		{"＋８６ １３８－００１３－８０００", "13800138000", mobile, ""},
		{"138—0013—8000", "13800138000", mobile, ""}, // em dashes from a word processor
		// landlines: Beijing, Shanghai, Guangzhou, Hangzhou, Shenzhen, a 7-digit local number
		{"010-12345678", "01012345678", landline, ""},
		{"(010)62345678", "01062345678", landline, ""},
		{"021-6888 8888", "02168888888", landline, ""},
		{"020-87654321", "02087654321", landline, ""},
		{"0571-87654321", "057187654321", landline, ""},
		{"(0571)87654321", "057187654321", landline, ""},
		{"（0571）87654321", "057187654321", landline, ""},
		{"0571 8765 4321", "057187654321", landline, ""},
		{"0755-2345 6789", "075523456789", landline, ""},
		{"0931-8765432", "09318765432", landline, ""},
		{"057187654321", "057187654321", landline, ""},
		// landlines written internationally drop the trunk 0; it comes back
		{"+86 571 8765 4321", "057187654321", landline, ""},
		{"+86 10 6234 5678", "01062345678", landline, ""},
		{"+86 (0)21 6888 8888", "02168888888", landline, ""},
		{"0086 755 2345 6789", "075523456789", landline, ""},
		{"86-571-87654321", "057187654321", landline, ""},
		// extensions, kept apart
		{"0571-87654321转123", "057187654321", landline, "123"},
		{"0571-87654321 转 8001", "057187654321", landline, "8001"},
		{"010-12345678 分机 66", "01012345678", landline, "66"},
		{"0571-87654321 ext 123", "057187654321", landline, "123"},
		{"0571-87654321 EXT. 123", "057187654321", landline, "123"},
		{"0571-87654321x123", "057187654321", landline, "123"},
		{"0571-87654321#123", "057187654321", landline, "123"},
		{"0571-87654321-123", "057187654321", landline, "123"},
		{"010-62345678-8", "01062345678", landline, "8"},
		{"400-820-8820 转 2", "4008208820", service, "2"},
		// service numbers
		{"400-820-8820", "4008208820", service, ""},
		{"4008208820", "4008208820", service, ""},
		{"800-820-8820", "8008208820", service, ""},
		{"4006 123 456", "4006123456", service, ""},
		{"+86 400 820 8820", "4008208820", service, ""},
		// refused
		{"", "required", "", ""},
		{"   ", "required", "", ""},
		{"-()", "required", "", ""},
		{"+", "phone.too_short", "", ""},
		{"1380013800", "phone.too_short", "", ""},            // 10-digit mobile
		{"10086", "phone.too_short", "", ""},                 // carrier short code
		{"138001380001", "phone.too_long", "", ""},           // 12-digit mobile
		{"12800138000", "phone.invalid", "", ""},             // no mobile segment starts 12
		{"11800138000", "phone.invalid", "", ""},             // nor 11
		{"1380013800a", "phone.invalid_char", "", ""},        // a letter
		{"phone: 13800138000", "phone.invalid_char", "", ""}, // a label
		{"138+0013+8000", "phone.invalid_char", "", ""},      // a '+' inside the number
		{"13800138000/13900139000", "phone.invalid_char", "", ""},
		{"+1 415 555 0100", "phone.foreign", "", ""},           // US
		{"001 415 555 0100", "phone.foreign", "", ""},          // US dialled from China
		{"+44 7911 123456", "phone.foreign", "", ""},           // UK
		{"(415) 555-0100", "phone.unrecognized", "", ""},       // US without country code
		{"87654321", "phone.no_area_code", "", ""},             // local number without its city
		{"8765432", "phone.no_area_code", "", ""},              // 7-digit local number
		{"123456", "phone.too_short", "", ""},                  //
		{"0571-876543", "phone.too_short", "", ""},             // local number too short
		{"0571-876543210", "phone.too_long", "", ""},           // local number too long
		{"010-123456789", "phone.too_long", "", ""},            // 9-digit local number in Beijing
		{"0571-07654321", "phone.landline", "", ""},            // local numbers never start with 0 or 1
		{"0151-87654321", "phone.landline", "", ""},            // 011–019 are not area codes
		{"138 0013 8000 转 1", "phone.extension", "", ""},       // mobiles have no extension
		{"0571-87654321 转", "phone.extension", "", ""},         // marker without digits
		{"0571-87654321 转 1234567", "phone.extension", "", ""}, // 7 digits: a second number, not an extension
		{"0571-87654321 转 总机", "phone.extension", "", ""},
		{"转123", "phone.too_short", "", ""},
		{"400-820-882", "phone.too_short", "", ""},
		{"400-820-88200", "phone.too_long", "", ""},
		{"12345678901234567890", "phone.too_long", "", ""},
	}
	for _, c := range cases {
		p, err := pii.NormalizePhone(c.in)
		if c.kind == "" {
			if err == nil {
				t.Errorf("NormalizePhone(%q) = %+v; want refused with %s", c.in, p, c.want)
				continue
			}
			e := apperr.As(err)
			if e.Kind != apperr.Invalid || e.Code != c.want {
				t.Errorf("NormalizePhone(%q): %v (kind %s, code %s); want invalid, %s", c.in, err, e.Kind, e.Code, c.want)
			}
			continue
		}
		if err != nil {
			t.Errorf("NormalizePhone(%q): %v; want %s", c.in, err, c.want)
			continue
		}
		if p.Number != c.want || p.Kind != c.kind || p.Ext != c.ext {
			t.Errorf("NormalizePhone(%q) = %+v; want {Number:%s Ext:%s Kind:%s}", c.in, p, c.want, c.ext, c.kind)
		}
	}
	if len(cases) < 40 {
		t.Fatalf("only %d cases", len(cases))
	}
}

// TestNormalizePhone_AgreesWithNormalizeMobile: existing callers keep validating
// mobiles with NormalizeMobile; both must give the same digits for the same input.
func TestNormalizePhone_AgreesWithNormalizeMobile(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"13800138000", "+86 138 0013 8000", "0086-13800138000", "8613800138000", "１３８００１３８０００",
		"(+86) 138 0013 8000", "138-0013-8000", "+1 415 555 0100", "0571-88886666", "12800138000", "",
	} {
		m, mok := pii.NormalizeMobile(in)
		p, err := pii.NormalizePhone(in)
		pok := err == nil && p.Kind == pii.PhoneMobile
		if mok != pok || (mok && m != p.Number) {
			t.Errorf("%q: NormalizeMobile = %q, %v; NormalizePhone = %+v, %v", in, m, mok, p, err)
		}
	}
}

func TestMaskPhone_LandlinesKeepTheirAreaCode(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"057187654321": "0571****4321",
		"01012345678":  "010****5678",
		"02168888888":  "021****8888",
		"09318765432":  "0931****432", // 7-digit local number: still 4 digits hidden
		"13800138000":  "138****8000",
		"4008208820":   "400***8820",
	}
	for in, want := range cases {
		if got := pii.MaskPhone(in); got != want {
			t.Errorf("MaskPhone(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPhoneSuffixKey_ReversesTheDigits(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"13800138000":   "00083100831",
		"0571-87654321": "123456781750",
		"４３２１":          "1234",
		"":              "",
	}
	for in, want := range cases {
		if got := pii.PhoneSuffixKey(in); got != want {
			t.Errorf("PhoneSuffixKey(%q) = %q, want %q", in, got, want)
		}
	}
	// the point of the key: "ends with 4321" becomes "key starts with 1234"
	if !strings.HasPrefix(pii.PhoneSuffixKey("057187654321"), pii.PhoneSuffixKey("4321")) {
		t.Error("suffix search by key prefix does not work")
	}
}

// phoneCodes are the codes NormalizePhone may refuse with; each has a message in
// the locale files.
var phoneCodes = map[string]bool{
	"required": true, "phone.invalid_char": true, "phone.foreign": true, "phone.too_short": true,
	"phone.too_long": true, "phone.invalid": true, "phone.landline": true, "phone.no_area_code": true,
	"phone.extension": true, "phone.unrecognized": true,
}

func FuzzNormalizePhone(f *testing.F) {
	for _, s := range []string{
		"13800138000", "+86 138 0013 8000", "0571-87654321转123", "(0571)87654321", "+86 571 8765 4321",
		"010-12345678", "400-820-8820", "0571-87654321-123", "１３８００１３８０００", "+1 415 555 0100",
		"87654321", "", "转", "ext 1", "86 10 1234 5678", "0086 755 2345 6789", "+86 (0)21 6888 8888",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := pii.NormalizePhone(s)
		if m, ok := pii.NormalizeMobile(s); ok && (err != nil || p.Number != m || p.Kind != pii.PhoneMobile) {
			t.Fatalf("NormalizeMobile(%q) = %q but NormalizePhone = %+v, %v", s, m, p, err)
		}
		if err != nil {
			if e := apperr.As(err); e.Kind != apperr.Invalid || !phoneCodes[e.Code] {
				t.Fatalf("NormalizePhone(%q): unexpected error %v", s, err)
			}
			return
		}
		if !allDigits(p.Number) || !allDigits(p.Ext) || p.Number == "" {
			t.Fatalf("NormalizePhone(%q) = %+v: not digits only", s, p)
		}
		again, err := pii.NormalizePhone(p.Number)
		if err != nil || again.Number != p.Number || again.Kind != p.Kind || again.Ext != "" {
			t.Fatalf("NormalizePhone(%q) = %+v, but normalizing %q again gives %+v, %v", s, p, p.Number, again, err)
		}
		if p.Ext != "" {
			withExt, err := pii.NormalizePhone(p.Number + "转" + p.Ext)
			if err != nil || withExt != p {
				t.Fatalf("NormalizePhone(%q) = %+v, but its number with 转 gives %+v, %v", s, p, withExt, err)
			}
		}
		masked := pii.MaskPhone(p.Number)
		shown := strings.Count(masked, "") - 1 - strings.Count(masked, "*")
		hidden := strings.Count(masked, "*")
		limit := 7
		if p.Kind == pii.PhoneLandline && p.Number[1] != '1' && p.Number[1] != '2' {
			limit = 8 // a 4-digit area code (the city) and at most 4 local digits
		}
		if shown > limit || hidden < 3 || len(masked) != len(p.Number) {
			t.Fatalf("MaskPhone(%q) = %q reveals too much", p.Number, masked)
		}
		if p.Kind != pii.PhoneService && hidden < 4 {
			t.Fatalf("MaskPhone(%q) = %q hides fewer than 4 digits", p.Number, masked)
		}
		if key := pii.PhoneSuffixKey(p.Number); len(key) != len(p.Number) || key[0] != p.Number[len(p.Number)-1] {
			t.Fatalf("PhoneSuffixKey(%q) = %q", p.Number, key)
		}
	})
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
