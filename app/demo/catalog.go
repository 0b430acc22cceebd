package demo

import "dealerdesk/app/inventory"

// wan converts 万元 (as on a price sticker) to fen.
func wan(v float64) int64 { return int64(v*10000+0.5) * 100 }

var pearl, black, silver, grey, red, blue = "珍珠白", "曜石黑", "铂金银", "星光灰", "烈焰红", "海洋蓝"

func model(brand, series, body, trim string, msrpWan float64, energy string, colors ...string) inventory.SeedModel {
	return inventory.SeedModel{Brand: brand, Series: series, Body: body, Name: trim, Year: 2026, MSRP: wan(msrpWan), Energy: energy, Colors: colors}
}

// catalog is the demo vehicle catalogue: the brands of the demo stores, with
// current series, trims and list prices as Chinese dealers quote them.
var catalog = []inventory.SeedModel{
	model("丰田", "凯美瑞", "轿车", "2.0E 精英版", 17.18, "ice", pearl, black, silver),
	model("丰田", "凯美瑞", "轿车", "2.0HE 双擎精英版", 19.98, "hev", pearl, black, grey),
	model("丰田", "凯美瑞", "轿车", "2.5HGVP 双擎豪华版", 23.98, "hev", pearl, black, red),
	model("丰田", "RAV4荣放", "SUV", "2.0L CVT 两驱都市版", 17.48, "ice", pearl, silver, blue),
	model("丰田", "RAV4荣放", "SUV", "2.5L 双擎四驱精英Plus版", 24.68, "hev", pearl, black, grey),
	model("丰田", "卡罗拉", "轿车", "1.5L CVT 先锋版", 11.98, "ice", pearl, silver, red),
	model("一汽-大众", "迈腾", "轿车", "330TSI DSG 领先型", 19.99, "ice", pearl, black, grey),
	model("一汽-大众", "迈腾", "轿车", "380TSI DSG 旗舰型", 26.49, "ice", pearl, black),
	model("一汽-大众", "探岳", "SUV", "280TSI 两驱豪华Plus进阶版", 18.69, "ice", pearl, silver, blue),
	model("一汽-大众", "速腾", "轿车", "300TSI DSG 超越版", 14.49, "ice", pearl, black, red),
	model("一汽-大众", "ID.4 CROZZ", "SUV", "纯净智享版", 20.99, "bev", pearl, grey, blue),
	model("比亚迪", "汉", "轿车", "EV 605KM 尊贵型", 20.98, "bev", pearl, black, red),
	model("比亚迪", "汉", "轿车", "DM-i 121KM 尊荣型", 18.98, "phev", pearl, black, grey),
	model("比亚迪", "秦PLUS", "轿车", "DM-i 55KM 领先型", 7.98, "phev", pearl, silver, blue),
	model("比亚迪", "宋PLUS", "SUV", "DM-i 112KM 旗舰型", 15.98, "phev", pearl, black, grey),
	model("比亚迪", "元PLUS", "SUV", "EV 510KM 领先型", 13.58, "bev", pearl, red, blue),
	model("本田", "雅阁", "轿车", "260TURBO 精英版", 17.98, "ice", pearl, black, silver),
	model("本田", "CR-V", "SUV", "240TURBO 两驱锋尚5座版", 18.59, "ice", pearl, grey, blue),
	model("别克", "君越", "轿车", "652T 豪华型", 22.99, "ice", pearl, black),
	model("别克", "GL8", "MPV", "陆上公务舱 653T 豪华型", 31.99, "ice", pearl, black, silver),
}
