package inventory_test

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"testing"

	"github.com/xuri/excelize/v2"

	"dealerdesk/app/apptest"
	"dealerdesk/app/inventory"
)

func findModel(cat []inventory.Brand, id int64) *inventory.Model {
	for bi := range cat {
		for si := range cat[bi].Series {
			for mi := range cat[bi].Series[si].Models {
				if m := &cat[bi].Series[si].Models[mi]; m.ID == id {
					return m
				}
			}
		}
	}
	return nil
}

func catalog(t *testing.T, c *apptest.Client, path string) []inventory.Brand {
	t.Helper()
	var cat struct{ Items []inventory.Brand }
	c.Do("GET", path, nil).Expect(t, http.StatusOK).JSON(t, &cat)
	return cat.Items
}

// TestCatalogEdit_TreeVersionConflictAndListsReplace: brand → series → model are
// created and edited with optimistic versions (a stale PUT is a 409), colour and
// option lists are replaced whole, option costs show only with cost.read, a
// retired model leaves the default catalogue but stays in ?all=1, and every
// change is audited.
func TestCatalogEdit_TreeVersionConflictAndListsReplace(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	admin := env.As("admin")
	var b inventory.Brand
	admin.Do("POST", "/catalog/brands", map[string]any{"name": " 小鹏 "}).Expect(t, http.StatusCreated).JSON(t, &b)
	if b.Name != "小鹏" || !b.Active || b.Version != 1 {
		t.Fatalf("brand %+v", b)
	}
	apptest.ExpectErr(t, admin.Do("POST", "/catalog/brands", map[string]any{"name": "小鹏"}), http.StatusConflict, "catalog.brand_taken")
	var s inventory.Series
	admin.Do("POST", "/catalog/series", map[string]any{"brandId": b.ID, "name": "G6", "bodyType": "SUV"}).Expect(t, http.StatusCreated).JSON(t, &s)
	apptest.ExpectField(t, admin.Do("POST", "/catalog/series", map[string]any{"brandId": 99999, "name": "G9"}), "brandId", "catalog.brand_unknown")
	apptest.ExpectField(t, admin.Do("POST", "/catalog/models", map[string]any{"seriesId": s.ID, "name": "580 长续航 Pro", "modelYear": 2026, "msrp": 17_690_000, "energyType": "diesel"}),
		"energyType", "catalog.energy_type_unknown")
	apptest.ExpectField(t, admin.Do("POST", "/catalog/models", map[string]any{"seriesId": s.ID, "name": "x", "modelYear": 1980, "msrp": 1, "energyType": "bev"}), "modelYear", "out_of_range")
	var m inventory.Model
	admin.Do("POST", "/catalog/models", map[string]any{"seriesId": s.ID, "name": "580 长续航 Pro", "modelYear": 2026, "code": " xp-g6-580p ", "msrp": 17_690_000, "energyType": "bev"}).
		Expect(t, http.StatusCreated).JSON(t, &m)
	if m.Code != "XP-G6-580P" || m.MSRP != 17_690_000 || !m.Active || m.Version != 1 || len(m.Colors) != 0 || len(m.Options) != 0 {
		t.Fatalf("model %+v", m)
	}
	apptest.ExpectErr(t, admin.Do("POST", "/catalog/models", map[string]any{"seriesId": s.ID, "name": "其他", "modelYear": 2026, "code": "XP-G6-580P", "msrp": 1, "energyType": "bev"}),
		http.StatusConflict, "catalog.code_taken")

	// Two editors hold version 1; the second save is refused.
	edit := map[string]any{"seriesId": s.ID, "name": "580 长续航 Pro+", "modelYear": 2026, "code": "XP-G6-580P", "msrp": 17_990_000, "energyType": "bev", "version": 1}
	admin.Do("PUT", fmt.Sprintf("/catalog/models/%d", m.ID), edit).Expect(t, http.StatusOK).JSON(t, &m)
	if m.Version != 2 || m.MSRP != 17_990_000 || m.Name != "580 长续航 Pro+" {
		t.Fatalf("edited %+v", m)
	}
	edit["msrp"] = 1
	apptest.ExpectErr(t, admin.Do("PUT", fmt.Sprintf("/catalog/models/%d", m.ID), edit), http.StatusConflict, "conflict.stale")
	apptest.ExpectErr(t, admin.Do("PUT", fmt.Sprintf("/catalog/brands/%d", b.ID), map[string]any{"name": "小鹏汽车", "version": 7}), http.StatusConflict, "conflict.stale")
	admin.Do("PUT", fmt.Sprintf("/catalog/brands/%d", b.ID), map[string]any{"name": "小鹏汽车", "version": 1}).Expect(t, http.StatusOK).JSON(t, &b)
	admin.Do("PUT", fmt.Sprintf("/catalog/series/%d", s.ID), map[string]any{"brandId": b.ID, "name": "G6", "bodyType": "轿跑SUV", "version": 1}).Expect(t, http.StatusOK).JSON(t, &s)
	if b.Name != "小鹏汽车" || b.Version != 2 || s.BodyType != "轿跑SUV" || s.Version != 2 {
		t.Fatalf("brand %+v series %+v", b, s)
	}

	// Lists replace whole, each bumping the model's version.
	path := fmt.Sprintf("/catalog/models/%d", m.ID)
	admin.Do("PUT", path+"/colors", map[string]any{"version": 2, "colors": []map[string]any{{"name": "星暮紫", "surcharge": 500_000}, {"name": "新月银"}}}).Expect(t, http.StatusOK).JSON(t, &m)
	admin.Do("PUT", path+"/colors", map[string]any{"version": 3, "colors": []map[string]any{{"name": "新月银"}, {"name": "星瀚绿", "surcharge": 300_000}}}).Expect(t, http.StatusOK).JSON(t, &m)
	if fmt.Sprint(m.Colors) != "[新月银 星瀚绿]" || m.ColorList[1].Surcharge != 300_000 || m.Version != 4 {
		t.Fatalf("colours %+v", m)
	}
	apptest.ExpectField(t, admin.Do("PUT", path+"/colors", map[string]any{"version": 4, "colors": []map[string]any{{"name": "白"}, {"name": "白"}}}), "colors.1.name", "catalog.duplicate_name")
	apptest.ExpectErr(t, admin.Do("PUT", path+"/colors", map[string]any{"version": 3, "colors": []map[string]any{}}), http.StatusConflict, "conflict.stale")
	admin.Do("PUT", path+"/options", map[string]any{"version": 4, "options": []map[string]any{{"name": "XPILOT 智驾包", "price": 2_000_000, "cost": 1_200_000}, {"name": "20 寸轮毂", "price": 600_000}}}).
		Expect(t, http.StatusOK).JSON(t, &m)
	admin.Do("PUT", path+"/options", map[string]any{"version": 5, "options": []map[string]any{{"name": "XPILOT 智驾包", "price": 1_800_000, "cost": 1_100_000}}}).Expect(t, http.StatusOK).JSON(t, &m)
	if len(m.Options) != 1 || m.Options[0].Price != 1_800_000 || m.Options[0].Cost == nil || *m.Options[0].Cost != 1_100_000 || m.Version != 6 {
		t.Fatalf("options %+v", m.Options)
	}
	// The sales manager has no cost.read: sees no cost, cannot set one, and
	// replacing the list keeps the cost of a kept option.
	sm := env.As("sales_manager")
	if got := findModel(catalog(t, sm, "/catalog"), m.ID); got == nil || got.Options[0].Cost != nil {
		t.Fatalf("sales manager sees %+v", got)
	}
	apptest.ExpectField(t, sm.Do("PUT", path+"/options", map[string]any{"version": 6, "options": []map[string]any{{"name": "XPILOT 智驾包", "price": 1, "cost": 1}}}), "options.0.cost", "catalog.cost_not_allowed")
	sm.Do("PUT", path+"/options", map[string]any{"version": 6, "options": []map[string]any{{"name": "XPILOT 智驾包", "price": 1_700_000}}}).Expect(t, http.StatusOK)
	if got := findModel(catalog(t, admin, "/catalog"), m.ID); got == nil || got.Options[0].Cost == nil || *got.Options[0].Cost != 1_100_000 || got.Options[0].Price != 1_700_000 || got.Code != "XP-G6-580P" {
		t.Fatalf("after sales manager: %+v", got)
	}

	// Retire the model: gone from the default catalogue, listed with all=1.
	edit["version"], edit["active"], edit["msrp"] = 7, false, 17_990_000
	admin.Do("PUT", path, edit).Expect(t, http.StatusOK).JSON(t, &m)
	if m.Active || findModel(catalog(t, admin, "/catalog"), m.ID) != nil {
		t.Fatalf("retired model still listed: %+v", m)
	}
	if got := findModel(catalog(t, admin, "/catalog?all=1"), m.ID); got == nil || got.Active {
		t.Fatalf("all=1 lacks the retired model: %+v", got)
	}
	if n := env.AuditCount("update", "vehicle_model"); n != 7 {
		t.Fatalf("%d model update audit rows, want 7", n)
	}
	if env.AuditCount("create", "vehicle_brand") != 1 || env.AuditCount("create", "vehicle_series") != 1 || env.AuditCount("create", "vehicle_model") != 1 {
		t.Fatal("create audit rows missing")
	}
}

// TestCatalogEdit_DeleteModelInStockRefused: a model the stock refers to can only
// be retired (409 catalog.model_in_stock); an unused one is deleted with its
// colours and options.
func TestCatalogEdit_DeleteModelInStockRefused(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	admin := env.As("admin")
	m := camry(t, env)
	create(t, admin, map[string]any{"vin": vinA, "modelId": m})
	apptest.ExpectErr(t, admin.Do("DELETE", fmt.Sprintf("/catalog/models/%d", m), nil), http.StatusConflict, "catalog.model_in_stock")
	var cur inventory.Model
	if got := findModel(catalog(t, admin, "/catalog"), m); got != nil {
		cur = *got
	}
	admin.Do("PUT", fmt.Sprintf("/catalog/models/%d", m), map[string]any{"seriesId": cur.SeriesID, "name": cur.Name, "modelYear": cur.ModelYear, "msrp": cur.MSRP,
		"energyType": cur.EnergyType, "active": false, "version": cur.Version}).Expect(t, http.StatusOK)
	var v inventory.VehicleList
	admin.Do("GET", "/vehicles?vin="+vinA, nil).Expect(t, http.StatusOK).JSON(t, &v)
	if len(v.Items) != 1 || v.Items[0].ModelID != m {
		t.Fatalf("vehicle of the retired model: %+v", v.Items)
	}

	var fresh inventory.Model
	admin.Do("POST", "/catalog/models", map[string]any{"seriesId": cur.SeriesID, "name": "试制版", "modelYear": 2026, "msrp": 100, "energyType": "hev"}).Expect(t, http.StatusCreated).JSON(t, &fresh)
	admin.Do("PUT", fmt.Sprintf("/catalog/models/%d/colors", fresh.ID), map[string]any{"version": 1, "colors": []map[string]any{{"name": "白"}}}).Expect(t, http.StatusOK)
	admin.Do("DELETE", fmt.Sprintf("/catalog/models/%d", fresh.ID), nil).Expect(t, http.StatusNoContent)
	if count(t, env, `SELECT count(*) FROM vehicle_color WHERE model_id = ?`, fresh.ID) != 0 || env.AuditCount("delete", "vehicle_model") != 1 {
		t.Fatal("deleted model left colours or no audit row")
	}
	admin.Do("DELETE", fmt.Sprintf("/catalog/models/%d", fresh.ID), nil).Expect(t, http.StatusNotFound)
}

// TestCatalogEdit_PermissionMatrix: reads need vehicle.read, changes vehicle.write.
func TestCatalogEdit_PermissionMatrix(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	cases := []struct {
		role        string
		read, write int
	}{
		{"admin", 200, 201}, {"gm", 200, 201}, {"sales_manager", 200, 201}, {"sales", 200, 403},
		{"service_advisor", 200, 403}, {"hr", 403, 403}, {"finance", 403, 403}, {"dcc", 403, 403},
	}
	for _, c := range cases {
		cl := env.As(c.role)
		cl.Do("GET", "/catalog?all=1", nil).Expect(t, c.read)
		cl.Do("POST", "/catalog/brands", map[string]any{"name": "品牌-" + c.role}).Expect(t, c.write)
		if c.write == 403 {
			cl.Do("PUT", "/catalog/models/1", map[string]any{}).Expect(t, 403)
			cl.Do("PUT", "/catalog/models/1/colors", map[string]any{"version": 1, "colors": []any{}}).Expect(t, 403)
			cl.Do("DELETE", "/catalog/models/1", nil).Expect(t, 403)
			cl.Do("POST", "/catalog/import", []byte("x"), "Content-Type", "multipart/form-data; boundary=x").Expect(t, 403)
		}
	}
}

// TestCatalogImport_CreatesUpdatesRejects: a price list creates brands, series
// and models, updates a model found by its code (price, colours), and rejects
// bad prices, unknown energy types and rows without a series, row by row.
func TestCatalogImport_CreatesUpdatesRejects(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	admin := env.As("admin")
	var s inventory.Series // the demo's 比亚迪 汉
	for _, br := range catalog(t, admin, "/catalog") {
		for _, se := range br.Series {
			if br.Name == "比亚迪" && se.Name == "汉" {
				s = se
			}
		}
	}
	var old inventory.Model
	admin.Do("POST", "/catalog/models", map[string]any{"seriesId": s.ID, "name": "EV 荣耀版 605KM", "modelYear": 2025, "code": "BYD-HAN-605", "msrp": 20_000_000, "energyType": "bev"}).
		Expect(t, http.StatusCreated).JSON(t, &old)
	admin.Do("PUT", fmt.Sprintf("/catalog/models/%d/colors", old.ID), map[string]any{"version": 1, "colors": []map[string]any{{"name": "雪域白", "surcharge": 200_000}}}).Expect(t, http.StatusOK)

	f := excelize.NewFile()
	sh := f.GetSheetName(0)
	rows := [][]any{
		{"品牌", "车系", "车型/配置", "年款", "车型代码", "指导价", "能源类型", "颜色", "车身"},
		{"理想", "L6", "Pro", "2026款", "LI-L6-PRO", "249,800.00", "增程", "珍珠白、星环绿,墨玉黑", "SUV"},  // created (brand, series, model)
		{"比亚迪", "汉", "EV 荣耀版 610KM", 2026, "byd-han-605", "¥199,800.5", "纯电", "雪域白、时间灰", ""}, // updated by code
		{"比亚迪", "汉", "DM-i 冠军版", "2026", "", "16.98万", "插混", "", "轿车"},                       // created in the existing series
		{"理想", "L7", "Max", "2026", "", "319800.123", "增程", "", ""},                          // bad price
		{"理想", "L7", "Ultra", "2026", "", "339800", "氢能", "", ""},                            // unknown energy type
		{"理想", "", "Air", "2026", "", "301800", "增程", "", ""},                                // missing series
		{"理想", "L6", "Max", "2026", "", "", "erev", "", ""},                                  // new model without a price
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow(sh, cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	upload := func(path string) *apptest.Response {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		fw, _ := mw.CreateFormFile("file", "price-list.xlsx")
		fw.Write(buf.Bytes())
		mw.Close()
		return admin.Do("POST", path, body.Bytes(), "Content-Type", mw.FormDataContentType())
	}
	var prev inventory.ImportPreview
	upload("/catalog/import/preview").Expect(t, http.StatusOK).JSON(t, &prev)
	want := map[string]int{"brand": 0, "series": 1, "name": 2, "year": 3, "code": 4, "msrp": 5, "energy": 6, "colors": 7, "body": 8}
	if prev.Total != 7 || fmt.Sprint(prev.Mapping) != fmt.Sprint(want) {
		t.Fatalf("preview %+v", prev)
	}
	var res inventory.CatalogImportResult
	upload("/catalog/import").Expect(t, http.StatusOK).JSON(t, &res)
	got := map[int]string{}
	for _, r := range res.Rows {
		got[r.Row] = r.Result + ":" + r.Code
	}
	wantRows := map[int]string{2: "created:", 3: "updated:", 4: "created:", 5: "rejected:catalog.import_price", 6: "rejected:catalog.energy_type_unknown",
		7: "rejected:catalog.import_series_missing", 8: "rejected:catalog.import_price"}
	if fmt.Sprint(got) != fmt.Sprint(wantRows) || res.Created != 2 || res.Updated != 1 || res.Rejected != 4 {
		t.Fatalf("import %+v\n got %v", res, got)
	}
	cat := catalog(t, admin, "/catalog")
	han := findModel(cat, old.ID)
	if han == nil || han.Name != "EV 荣耀版 610KM" || han.ModelYear != 2026 || han.MSRP != 19_980_050 || fmt.Sprint(han.Colors) != "[雪域白 时间灰]" ||
		han.ColorList[0].Surcharge != 200_000 || han.Version != 3 {
		t.Fatalf("updated by code: %+v", han)
	}
	var l6 *inventory.Model
	var dmi *inventory.Model
	for _, br := range cat {
		for _, se := range br.Series {
			for i := range se.Models {
				if br.Name == "理想" && se.Name == "L6" && se.BodyType == "SUV" && se.Models[i].Name == "Pro" {
					l6 = &se.Models[i]
				}
				if br.Name == "比亚迪" && se.Name == "汉" && se.BodyType == "轿车" && se.Models[i].Name == "DM-i 冠军版" {
					dmi = &se.Models[i]
				}
			}
		}
	}
	if l6 == nil || l6.MSRP != 24_980_000 || l6.EnergyType != "erev" || l6.Code != "LI-L6-PRO" || fmt.Sprint(l6.Colors) != "[珍珠白 星环绿 墨玉黑]" {
		t.Fatalf("created: %+v", l6)
	}
	if dmi == nil || dmi.MSRP != 16_980_000 || dmi.EnergyType != "phev" {
		t.Fatalf("created in existing series: %+v", dmi)
	}
	if env.AuditCount("import", "vehicle_model") != 1 || env.AuditCount("create", "vehicle_brand") != 1 {
		t.Fatal("import audit rows missing")
	}
}
