package sheet_test

import (
	"reflect"
	"testing"

	"dealerdesk/app/sheet"
)

var customerFields = []sheet.Field{
	{Key: "name", Aliases: []string{"姓名", "客户姓名", "客户名称", "联系人"}},
	{Key: "phone", Aliases: []string{"手机", "手机号", "手机号码", "联系电话", "电话", "mobile"}},
	{Key: "phone2", Aliases: []string{"备用手机", "备用电话", "其他电话"}},
	{Key: "model", Aliases: []string{"意向车型", "车型", "关注车型"}},
	{Key: "source", Aliases: []string{"来源", "线索来源", "渠道"}},
	{Key: "idNo", Aliases: []string{"身份证", "身份证号", "证件号码"}},
}

func TestSuggestMapping_MatchesLooselyButPrefersTheBestHeader(t *testing.T) {
	t.Parallel()
	cases := []struct {
		headers []string
		want    map[int]string
	}{
		// a portal export: exact aliases
		{[]string{"姓名", "手机", "意向车型", "线索来源", "留资时间"},
			map[int]string{0: "name", 1: "phone", 2: "model", 3: "source"}},
		// decorations: case, width, spaces, punctuation, required marks
		{[]string{" 客户 姓名 ", "手机号码（必填）", "来源 / Channel", "身份证号:"},
			map[int]string{0: "name", 1: "phone", 2: "source", 3: "idNo"}},
		{[]string{"ＭＯＢＩＬＥ", "Name"},
			map[int]string{0: "phone", 1: "name"}},
		// an exact header wins over one that merely contains an alias
		{[]string{"手机号码（必填）", "Mobile"},
			map[int]string{1: "phone"}},
		// "备用手机" contains 手机, but phone goes to the better header and phone2 to its own
		{[]string{"备用手机", "手机号", "车型"},
			map[int]string{0: "phone2", 1: "phone", 2: "model"}},
		// a header containing an alias: 客户手机 → phone
		{[]string{"客户手机", "NAME"},
			map[int]string{0: "phone", 1: "name"}},
		// each field once: the second 电话 column is left for the user
		{[]string{"电话", "电话"},
			map[int]string{0: "phone"}},
		// blank and unknown headers map to nothing
		{[]string{"", "序号", "备注"}, map[int]string{}},
	}
	for _, c := range cases {
		got := sheet.SuggestMapping(c.headers, customerFields)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("SuggestMapping(%q) = %v, want %v", c.headers, got, c.want)
		}
	}
}
