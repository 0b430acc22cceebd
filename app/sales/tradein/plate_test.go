package tradein

import "testing"

func TestNormalizePlate_Table(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in, want string
	}{
		{"浙A·12345", "浙A12345"},
		{" 浙a 12345 ", "浙A12345"},
		{"浙A-1234X", "浙A1234X"},
		{"沪Ｂ·１２３４５", "沪B12345"},
		{"粤B1234挂", "粤B1234挂"},
		{"浙AD12345", "浙AD12345"}, // small new-energy car, pure electric
		{"浙AF1A345", ""},         // small NEV: the last four are digits
		{"浙AFA2345", "浙AFA2345"}, // small NEV: second serial character a letter
		{"京AK12345", "京AK12345"}, // small NEV, 2021 letters
		{"浙A12345D", "浙A12345D"}, // large new-energy vehicle
		{"浙A12345X", ""},         // large: the last must be D or F
		{"浙AL12345", ""},         // small: L is not an energy letter
		{"浙AI2345", ""},          // I is never a serial character
		{"浙AO2345", ""},          // nor O
		{"AB12345", ""},          // no province
		{"浙A1234", ""},           // too short
		{"浙A123456", ""},         // six digits: neither ordinary nor NEV
		{"浙1A2345", ""},          // the authority is a letter
		{"", ""},
		{"浙A12挂45", ""}, // 挂 only last
	} {
		got, ok := NormalizePlate(c.in)
		if got != c.want || ok != (c.want != "") {
			t.Errorf("NormalizePlate(%q) = %q, %v; want %q", c.in, got, ok, c.want)
		}
	}
	if FormatPlate("浙AD12345") != "浙A·D12345" || label(2019, "大众", "朗逸", "", "浙A12345") != "2019 大众 朗逸 浙A·12345" {
		t.Errorf("format: %q / %q", FormatPlate("浙AD12345"), label(2019, "大众", "朗逸", "", "浙A12345"))
	}
}
