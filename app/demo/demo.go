// Package demo fills a data directory with a realistic dealership group: stores of
// several brands, their departments and teams, and staff of every role — for
// trying the product (`dealerdesk demo`, `serve --demo`) and, at --scale group, for
// benchmarks, plus the vehicle catalogue of the stores' brands. Later modules add
// their own demo records here.
package demo

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strconv"

	"dealerdesk/app/apperr"
	"dealerdesk/app/audit"
	"dealerdesk/app/auth"
	"dealerdesk/app/db"
	"dealerdesk/app/inventory"
	"dealerdesk/app/org"
	"dealerdesk/app/system"
)

// Password is the password of every demo account.
const Password = "Demo@2026"

// Scale is the size of the data set.
type Scale string

// The scales: a small showroom set, one full store, a 50-store group.
const (
	ScaleDemo  Scale = "demo"  // 3 stores, ~25 staff each
	ScaleStore Scale = "store" // 1 store, ~50 staff
	ScaleGroup Scale = "group" // 50 stores, ~1,500 staff
)

// ParseScale accepts demo, store or group.
func ParseScale(s string) (Scale, error) {
	switch Scale(s) {
	case ScaleDemo, ScaleStore, ScaleGroup:
		return Scale(s), nil
	case "":
		return ScaleDemo, nil
	}
	return "", fmt.Errorf("demo: --scale %q is not demo, store or group", s)
}

// Summary says what was created.
type Summary struct {
	Stores      int
	Departments int
	Users       int
	Models      int
}

var brands = []struct{ brand, city, short string }{
	{"丰田", "杭州", "HZ"}, {"一汽-大众", "宁波", "NB"}, {"比亚迪", "绍兴", "SX"}, {"本田", "嘉兴", "JX"}, {"别克", "湖州", "HU"},
	{"日产", "金华", "JH"}, {"吉利", "台州", "TZ"}, {"奥迪", "温州", "WZ"}, {"宝马", "苏州", "SZ"}, {"长安", "无锡", "WX"},
}

var surnames = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
var given = []string{"伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英", "霞", "平",
	"刚", "桂英", "建华", "文", "华", "红", "建国", "志强", "海燕", "晓东", "丹", "鹏", "欣怡", "子涵", "浩然", "雨涵", "宇轩", "梓萱", "俊杰", "思远"}

// staffing is how many people of each role a store has, by scale.
func staffing(s Scale) []struct {
	role, dept string
	n          int
} {
	mul := 1
	if s == ScaleStore {
		mul = 2
	}
	return []struct {
		role, dept string
		n          int
	}{
		{"gm", "总经办", 1}, {"sales_manager", "销售部", 1}, {"sales", "销售部", 6 * mul}, {"dcc", "DCC", 2 * mul},
		{"service_advisor", "售后服务部", 3 * mul}, {"technician", "售后服务部", 5 * mul}, {"parts", "配件部", 1 * mul},
		{"finance", "财务部", 2}, {"hr", "行政人事部", 1}, {"marketing", "市场部", 1 * mul},
	}
}

// Fill creates the demo data set in an empty database. It refuses a database that
// already has users, so it never mixes demo rows into a store's real data.
func Fill(ctx context.Context, d *db.DB, scale Scale, now int64) (Summary, error) {
	var sum Summary
	var n int
	if err := d.R.QueryRowContext(ctx, `SELECT count(*) FROM app_user`).Scan(&n); err != nil {
		return sum, err
	}
	if n > 0 {
		return sum, apperr.New(apperr.Conflict, "demo.not_empty")
	}
	hash, err := auth.HashPassword(Password) // one hash for every demo account: 1,500 argon2id runs would take minutes
	if err != nil {
		return sum, err
	}
	stores := 3
	switch scale {
	case ScaleStore:
		stores = 1
	case ScaleGroup:
		stores = 50
	}
	rng := rand.New(rand.NewPCG(20261123, uint64(stores)))
	usedPhones := map[string]bool{}
	phone := func() string {
		prefixes := []string{"138", "139", "137", "136", "135", "150", "151", "152", "158", "159", "186", "187", "188", "189", "177", "199"}
		for {
			p := prefixes[rng.IntN(len(prefixes))] + fmt.Sprintf("%08d", rng.IntN(100000000))
			if !usedPhones[p] {
				usedPhones[p] = true
				return p
			}
		}
	}
	name := func() string {
		return string(surnames[rng.IntN(len(surnames))]) + given[rng.IntN(len(given))]
	}
	err = d.WriteTx(ctx, func(tx *sql.Tx) error {
		if err := system.CreateGroupTx(ctx, tx, "鑫源汽车集团", now); err != nil {
			return err
		}
		roles := map[string]int64{}
		for _, r := range auth.DefaultRoles {
			id, err := org.RoleIDByCode(ctx, tx, r.Code)
			if err != nil {
				return err
			}
			roles[r.Code] = id
		}
		for i := 0; i < stores; i++ {
			b := brands[i%len(brands)]
			suffix := ""
			if i >= len(brands) {
				suffix = strconv.Itoa(i/len(brands) + 1)
			}
			st, err := org.CreateStoreTx(ctx, tx, org.StoreInput{
				Code: fmt.Sprintf("%s%02d", b.short, i/len(brands)+1), Name: fmt.Sprintf("%s鑫源%s%s4S店", b.city, b.brand, suffix), Brand: b.brand,
				Address: fmt.Sprintf("浙江省%s市汽车城大道%d号", b.city, 100+i), Phone: fmt.Sprintf("0571-8%07d", rng.IntN(10000000)),
				Letterhead: fmt.Sprintf("%s鑫源%s汽车销售服务有限公司", b.city, b.brand), Status: "active",
			}, now)
			if err != nil {
				return err
			}
			sum.Stores++
			depts := map[string]int64{}
			for _, dd := range system.DefaultDepartments {
				dd.StoreID = st.ID
				dep, err := org.CreateDepartmentTx(ctx, tx, dd, now)
				if err != nil {
					return err
				}
				depts[dd.Name] = dep.ID
				sum.Departments++
			}
			for _, sf := range staffing(scale) {
				for k := 0; k < sf.n; k++ {
					dept := depts[sf.dept]
					in := org.UserInput{Username: fmt.Sprintf("%s_%s%d", sf.role, st.Code, k+1), Name: name(), Phone: phone(),
						RoleID: roles[sf.role], StoreID: st.ID, DepartmentID: &dept}
					if i == 0 && k == 0 {
						in.Username = sf.role // the first store's people have short names to sign in with
					}
					if _, err := org.CreateUserTx(ctx, tx, in, hash, false, now); err != nil {
						return err
					}
					sum.Users++
				}
			}
		}
		if err := inventory.AddCatalogTx(ctx, tx, catalog, now); err != nil {
			return err
		}
		sum.Models = len(catalog)
		first := brands[0]
		if _, err := org.CreateUserTx(ctx, tx, org.UserInput{Username: "admin", Name: "系统管理员", RoleID: roles["admin"], StoreID: 1}, hash, false, now); err != nil {
			return err
		}
		sum.Users++
		return audit.Write(ctx, tx, audit.Entry{Who: audit.Who{UserName: "dealerdesk demo"}, At: now, Action: "create", Entity: "demo",
			After: map[string]any{"scale": scale, "stores": sum.Stores, "users": sum.Users, "firstStore": first.city}})
	})
	return sum, err
}
