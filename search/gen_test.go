package search_test

import (
	"fmt"
	"math/rand"
	"strings"

	"dealerdesk/search"
)

// Surnames weighted roughly by how common they are in China (the first ones cover
// about half the population), with a few compound and polyphonic ones.
var surnames = []struct {
	s string
	w int
}{
	{"王", 72}, {"李", 71}, {"张", 68}, {"刘", 52}, {"陈", 45}, {"杨", 31}, {"黄", 23}, {"赵", 20},
	{"吴", 19}, {"周", 19}, {"徐", 14}, {"孙", 13}, {"马", 12}, {"朱", 12}, {"胡", 11}, {"郭", 11},
	{"何", 10}, {"高", 10}, {"林", 10}, {"罗", 9}, {"郑", 9}, {"梁", 9}, {"谢", 7}, {"宋", 7},
	{"唐", 7}, {"许", 6}, {"韩", 6}, {"冯", 6}, {"邓", 6}, {"曹", 6}, {"彭", 6}, {"曾", 5},
	{"肖", 5}, {"田", 5}, {"董", 5}, {"袁", 5}, {"潘", 5}, {"于", 5}, {"蒋", 5}, {"蔡", 5},
	{"余", 5}, {"杜", 5}, {"叶", 4}, {"程", 4}, {"苏", 4}, {"魏", 4}, {"吕", 4}, {"丁", 4},
	{"任", 4}, {"沈", 4}, {"姚", 4}, {"卢", 4}, {"姜", 3}, {"崔", 3}, {"钟", 3}, {"谭", 3},
	{"陆", 3}, {"汪", 3}, {"范", 3}, {"金", 3}, {"石", 3}, {"廖", 3}, {"贾", 3}, {"夏", 3},
	{"韦", 3}, {"付", 3}, {"方", 3}, {"白", 3}, {"邹", 3}, {"孟", 3}, {"熊", 3}, {"秦", 3},
	{"邱", 2}, {"江", 2}, {"尹", 2}, {"薛", 2}, {"闫", 2}, {"段", 2}, {"雷", 2}, {"侯", 2},
	{"龙", 2}, {"史", 2}, {"陶", 2}, {"黎", 2}, {"贺", 2}, {"顾", 2}, {"毛", 2}, {"郝", 2},
	{"龚", 2}, {"邵", 2}, {"万", 2}, {"钱", 2}, {"严", 2}, {"覃", 2}, {"武", 2}, {"戴", 2},
	{"单", 1}, {"解", 1}, {"仇", 1}, {"查", 1}, {"翟", 1}, {"欧阳", 1}, {"司马", 1}, {"诸葛", 1},
	{"上官", 1}, {"尉迟", 1},
}

// givenChars are characters common in given names.
var givenChars = []rune("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华红建国志文玉梅辉鹏飞斌宇浩凯" +
	"健俊帆帅旭宁婷雪琳晶颖倩欣怡佳子轩涵梓萱博文皓然一诺雨泽思睿宏海波林峰亮春燕琴" +
	"云莲真环蓉薇菲瑶璐娅琪晨阳昊天嘉懿煜城懋乐")

// person is one generated customer.
type person struct {
	ID      int64
	Name    string
	Surname string
	Given   string
	Phone   string
	StoreID int64
	OwnerID int64
	DeptID  int64
}

// genPeople returns n people with realistic names and unique mobile numbers,
// reproducibly for a seed. Stores, owners and departments are spread so scope
// filters have something to cut.
func genPeople(n int, seed int64) []person {
	r := rand.New(rand.NewSource(seed))
	total := 0
	for _, s := range surnames {
		total += s.w
	}
	prefixes := []string{"130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155", "157", "158", "159", "166", "176", "177", "180", "181", "186", "187", "188", "189", "199"}
	seen := make(map[string]bool, n)
	out := make([]person, 0, n)
	for i := 0; i < n; i++ {
		k := r.Intn(total)
		var sur string
		for _, s := range surnames {
			if k < s.w {
				sur = s.s
				break
			}
			k -= s.w
		}
		glen := 1
		if r.Intn(10) < 7 {
			glen = 2
		}
		var g strings.Builder
		for j := 0; j < glen; j++ {
			g.WriteRune(givenChars[r.Intn(len(givenChars))])
		}
		var phone string
		for {
			phone = fmt.Sprintf("%s%08d", prefixes[r.Intn(len(prefixes))], r.Intn(100000000))
			if !seen[phone] {
				seen[phone] = true
				break
			}
		}
		store := int64(1 + r.Intn(5))
		dept := store*10 + int64(1+r.Intn(3))
		owner := dept*100 + int64(r.Intn(6)) // 0: in the shared pool
		if owner%100 == 0 {
			owner, dept = 0, 0
		}
		out = append(out, person{
			ID: int64(i + 1), Name: sur + g.String(), Surname: sur, Given: g.String(), Phone: phone,
			StoreID: store, OwnerID: owner, DeptID: dept,
		})
	}
	return out
}

func (p person) doc() search.Doc {
	return search.Doc{
		ID: fmt.Sprintf("customer:%d", p.ID), Kind: "customer",
		StoreID: p.StoreID, OwnerID: p.OwnerID, DepartmentID: p.DeptID,
		Title: p.Name, Subtitle: p.Phone[:3] + "****" + p.Phone[7:],
		Names: []string{p.Name}, Digits: []string{p.Phone},
	}
}
