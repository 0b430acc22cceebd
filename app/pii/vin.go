package pii

import (
	"strings"
	"unicode"
)

// VINError says why a VIN was refused; Code is the i18n key of the field error
// (vin.required, vin.length, vin.invalid_char, vin.check_digit).
type VINError struct{ Code string }

func (e *VINError) Error() string { return "pii: " + e.Code }

// vinValue is the ISO 3779 / North-American transliteration of a VIN character to
// its value in the check-digit sum; 0 marks a character a VIN cannot hold (I, O, Q
// and everything that is not a capital letter or digit).
var vinValue = func() [256]byte {
	var t [256]byte
	for c := '0'; c <= '9'; c++ {
		t[c] = byte(c-'0') + 1 // stored +1 so that 0 means "not allowed"
	}
	letters := map[byte]byte{
		'A': 1, 'B': 2, 'C': 3, 'D': 4, 'E': 5, 'F': 6, 'G': 7, 'H': 8,
		'J': 1, 'K': 2, 'L': 3, 'M': 4, 'N': 5, 'P': 7, 'R': 9,
		'S': 2, 'T': 3, 'U': 4, 'V': 5, 'W': 6, 'X': 7, 'Y': 8, 'Z': 9,
	}
	for c, v := range letters {
		t[c] = v + 1
	}
	return t
}()

var vinWeights = [17]int{8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2}

// NormalizeVIN trims, upper-cases and removes spaces (and the dashes some sheets
// put in); it does not validate.
func NormalizeVIN(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if unicode.IsSpace(r) || r == '-' {
			continue
		}
		b.WriteRune(unicode.ToUpper(foldWidth(r)))
	}
	return b.String()
}

// VINCheckDigit returns the position-9 check character of a 17-character VIN of
// the allowed alphabet ('0'–'9' or 'X'), and false when vin is not one.
func VINCheckDigit(vin string) (byte, bool) {
	if len(vin) != 17 {
		return 0, false
	}
	sum := 0
	for i := 0; i < 17; i++ {
		v := vinValue[vin[i]]
		if v == 0 {
			return 0, false
		}
		sum += int(v-1) * vinWeights[i]
	}
	if r := sum % 11; r < 10 {
		return byte('0' + r), true
	}
	return 'X', true
}

// ValidateVIN normalizes s and checks it: 17 characters of [A-HJ-NPR-Z0-9] and the
// position-9 check digit. A wrong check digit is an error for a China-built car
// (the VIN starts with L: GB 16735 makes the check digit mandatory) and only a
// warning otherwise (checkOK false, err nil), because some European makers fill
// position 9 with something else. err is a *VINError.
func ValidateVIN(s string) (vin string, checkOK bool, err error) {
	vin = NormalizeVIN(s)
	if vin == "" {
		return vin, false, &VINError{Code: "vin.required"}
	}
	for i := 0; i < len(vin); i++ {
		if vinValue[vin[i]] == 0 {
			return vin, false, &VINError{Code: "vin.invalid_char"}
		}
	}
	if len(vin) != 17 {
		return vin, false, &VINError{Code: "vin.length"}
	}
	want, _ := VINCheckDigit(vin)
	if vin[8] == want {
		return vin, true, nil
	}
	if vin[0] == 'L' {
		return vin, false, &VINError{Code: "vin.check_digit"}
	}
	return vin, false, nil
}
