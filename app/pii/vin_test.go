package pii_test

import (
	"errors"
	"strings"
	"testing"

	"dealerdesk/app/pii"
)

// TestValidateVIN_ChecksAlphabetLengthAndCheckDigit: 17 characters without I, O,
// Q; a wrong position-9 check digit refuses a China-built VIN (L…) and only warns
// for the others.
func TestValidateVIN_ChecksAlphabetLengthAndCheckDigit(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, in, want string
		checkOK        bool
		code           string // "" when accepted
	}{
		{"textbook example", "1M8GDM9AXKP042788", "1M8GDM9AXKP042788", true, ""},
		{"SAIC-VW, check digit X", "LSVAU218XN2183294", "LSVAU218XN2183294", true, ""},
		{"FAW-VW", "LFV2A21K8P4012345", "LFV2A21K8P4012345", true, ""},
		{"GAC Toyota", "LVSHCAMB6PE000001", "LVSHCAMB6PE000001", true, ""},
		{"Tesla Shanghai", "LRW3E7FS2PC999999", "LRW3E7FS2PC999999", true, ""},
		{"lower case, spaces and dashes", " lfv2a21k8p 401-2345 ", "LFV2A21K8P4012345", true, ""},
		{"full-width characters", "ＬＦＶ2Ａ21Ｋ8Ｐ4012345", "LFV2A21K8P4012345", true, ""},
		{"China-built, wrong check digit", "LFV2A21K5P4012345", "LFV2A21K5P4012345", false, "vin.check_digit"},
		{"China-built, letter in position 9", "LSVAU218AN2183294", "LSVAU218AN2183294", false, "vin.check_digit"},
		{"European, wrong check digit: a warning", "WVWZZZ3CZWE689725", "WVWZZZ3CZWE689725", false, ""},
		{"Japanese, wrong check digit: a warning", "JTDKB20U793512345", "JTDKB20U793512345", false, ""},
		{"letter I", "LFV2A21K8P40I2345", "", false, "vin.invalid_char"},
		{"letter O", "LFV2A21K8PO012345", "", false, "vin.invalid_char"},
		{"letter Q", "QFV2A21K8P4012345", "", false, "vin.invalid_char"},
		{"punctuation", "LFV2A21K8P4012.45", "", false, "vin.invalid_char"},
		{"Chinese character", "LFV2A21K8P401234京", "", false, "vin.invalid_char"},
		{"16 characters", "LFV2A21K8P401234", "", false, "vin.length"},
		{"18 characters", "LFV2A21K8P40123456", "", false, "vin.length"},
		{"empty", "  ", "", false, "vin.required"},
	}
	for _, c := range cases {
		vin, ok, err := pii.ValidateVIN(c.in)
		if c.code == "" {
			if err != nil || vin != c.want || ok != c.checkOK {
				t.Errorf("%s: ValidateVIN(%q) = %q, %v, %v; want %q, %v, nil", c.name, c.in, vin, ok, err, c.want, c.checkOK)
			}
			continue
		}
		var ve *pii.VINError
		if !errors.As(err, &ve) || ve.Code != c.code {
			t.Errorf("%s: ValidateVIN(%q) error %v, want %s", c.name, c.in, err, c.code)
		}
		if c.want != "" && vin != c.want {
			t.Errorf("%s: normalized %q, want %q", c.name, vin, c.want)
		}
	}
}

// TestVINCheckDigit_RemainderTenIsX: the weighted sum's remainder 10 is written X.
func TestVINCheckDigit_RemainderTenIsX(t *testing.T) {
	t.Parallel()
	for vin, want := range map[string]byte{"1M8GDM9AXKP042788": 'X', "LSVAU218XN2183294": 'X', "LFV2A21K8P4012345": '8', "WVWZZZ3CZWE689725": '8'} {
		if got, ok := pii.VINCheckDigit(vin); !ok || got != want {
			t.Errorf("VINCheckDigit(%s) = %c, %v; want %c", vin, got, ok, want)
		}
	}
	if _, ok := pii.VINCheckDigit("LFV2A21K8P40I2345"); ok {
		t.Error("a VIN with I has no check digit")
	}
}

// FuzzValidateVIN: never panics; whatever it accepts is 17 characters of the VIN
// alphabet, and China-built ones carry the right check digit.
func FuzzValidateVIN(f *testing.F) {
	for _, s := range []string{"1M8GDM9AXKP042788", "LFV2A21K5P4012345", "wvwzzz3czwe689725", "", "IOQ", "ＬＦＶ", "\xff\xfe", strings.Repeat("A", 40)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		vin, checkOK, err := pii.ValidateVIN(s)
		if err != nil {
			return
		}
		if len(vin) != 17 {
			t.Fatalf("accepted %q (%d characters)", vin, len(vin))
		}
		for i := 0; i < len(vin); i++ {
			c := vin[i]
			if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') || c == 'I' || c == 'O' || c == 'Q' {
				t.Fatalf("accepted %q with %q", vin, c)
			}
		}
		d, _ := pii.VINCheckDigit(vin)
		if checkOK != (vin[8] == d) {
			t.Fatalf("checkOK %v for %q (check digit %c)", checkOK, vin, d)
		}
		if vin[0] == 'L' && !checkOK {
			t.Fatalf("accepted China-built %q with a wrong check digit", vin)
		}
	})
}
