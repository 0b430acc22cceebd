package e2e_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"dealerdesk/app/apptest"
)

// TestJourney_ImportAllocationSheet: the sales manager imports a factory
// allocation sheet into 车辆库存: the columns are recognized by their Chinese
// headers and show a sample value, the import runs, and the report counts the
// cars created and names the row refused for its check digit.
func TestJourney_ImportAllocationSheet(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	base := env.Server.URL

	path := filepath.Join(t.TempDir(), "分配表.csv")
	sheet := "车架号,车型,颜色,状态\n" +
		"LFV2A21K8P4012345,凯美瑞 2.0E 精英版,珍珠白,在途\n" +
		"WVWZZZ3CZWE689725,凯美瑞 2.0E 精英版,铂金银,已订购\n" +
		"LFV2A21K5P4012345,凯美瑞 2.0E 精英版,珍珠白,在途\n"
	if err := os.WriteFile(path, []byte(sheet), 0o644); err != nil {
		t.Fatal(err)
	}

	b := newBrowser(t)
	p := b.newPage("desktop", desktop)
	p.storeClock(env.Clock.Now())
	signIn(p, base, "sales_manager")
	p.open(base, "/inventory/import")
	p.waitVisible(sel("vimport-file"))
	p.do("choose the sheet", chromedp.SetUploadFiles(chromedp.CSS(sel("vimport-file")+` input[type=file]`), []string{path}))
	p.waitUnless("the sheet is read and its columns shown", fmt.Sprintf(`!!document.querySelector(%s)`, js(sel("vimport-mapping"))),
		fmt.Sprintf(`(document.querySelector(%s) || {}).innerText`, js(sel("vimport-upload-error"))))

	// The suggested mapping follows the headers, each with a sample value.
	for field, want := range map[string]string{"vin": "车架号", "model": "车型", "color": "颜色"} {
		row := fmt.Sprintf(`document.querySelector('[data-test="vimport-mapping"] [data-field="%s"]')`, field)
		got := eval[string](p, fmt.Sprintf(`(() => { const r = %s; return r ? r.innerText : '' })()`, row))
		if !strings.Contains(got, want) {
			p.fail("field %s is mapped to %q, want the column %s", field, got, want)
		}
	}
	if got := eval[string](p, `(document.querySelector('[data-test="vimport-mapping"] [data-field="vin"] .vimp-map__sample') || {}).innerText || ''`); got != "LFV2A21K8P4012345" {
		p.fail("the VIN sample is %q", got)
	}
	if n := eval[int](p, `document.querySelectorAll('[data-test="vimport-preview"] .el-table__body tr').length`); n != 3 {
		p.fail("the preview shows %d rows, want 3", n)
	}
	p.shot("vimport-mapping")
	p.click(sel("vimport-submit"))
	p.waitVisible(sel("vimport-result"))
	stats := p.textOf(sel("vimport-result"))
	if !strings.HasPrefix(strings.TrimSpace(stats), "2") {
		p.fail("the result reads %q, want 2 created", stats)
	}
	if rows := p.textOf(sel("vimport-rows")); !strings.Contains(rows, "LFV2A21K5P4012345") {
		p.fail("the refused row is not named: %q", rows)
	}
	p.shot("vimport-result")
	var n int
	if err := env.App.DB.R.QueryRow(`SELECT count(*) FROM vehicle WHERE vin IN ('LFV2A21K8P4012345', 'WVWZZZ3CZWE689725')`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("imported cars in the database: %d %v", n, err)
	}
}
