package notify_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"dealerdesk/app/notify"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites the file with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(bytes.TrimSpace(want), bytes.TrimSpace(got)) {
		t.Errorf("%s differs:\n got %s\nwant %s", name, got, want)
	}
}

// The signing formulas, written again here from the vendors' documentation so
// the test does not trust the implementation.
func hmacB64(key, msg string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// TestRobotRequest_MatchesRecordedFormats: the exact bodies the three robots get
// (golden files), and the signatures for a fixed time and secret against values
// computed independently (Python's hmac for the known vectors below).
func TestRobotRequest_MatchesRecordedFormats(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	const secret = "SEC000"
	text := "【DealerDesk】新线索「138****8000」已分配给您，请在 15 分钟内首次联系\nhttps://dd.lan:8443/crm/customers/7?tab=timeline&x=1"
	mentions := []string{"13900001111"}

	// Known vectors (python3: base64(hmac.new(key, msg, sha256))): DingTalk key=secret,
	// msg=ts_ms+"\n"+secret; Feishu key=ts_s+"\n"+secret, msg="".
	const dingVector = "KQ2XmXVYy1m5wQ9N83BVciNoJ4h7xU3puM1oAnMqJpE="
	const feishuVector = "MKjm+xkt8zkT3lb+Q4hbhv0djvqMBS2fXl3JEthVkjs="
	ms, sec := at.UnixMilli(), at.Unix()
	if got := hmacB64(secret, strconv.FormatInt(ms, 10)+"\n"+secret); got != dingVector {
		t.Fatalf("test's own DingTalk formula %s, vector %s", got, dingVector)
	}
	if got := hmacB64(strconv.FormatInt(sec, 10)+"\n"+secret, ""); got != feishuVector {
		t.Fatalf("test's own Feishu formula %s, vector %s", got, feishuVector)
	}

	// WeCom: the URL as it is, the text with the mentions.
	u, body, err := notify.RobotRequest(notify.TypeWeCom, "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa", "", text, mentions, at)
	if err != nil {
		t.Fatal(err)
	}
	if u != "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa" {
		t.Errorf("wecom URL changed: %s", u)
	}
	golden(t, "robot_wecom.json", body)

	// DingTalk: &timestamp=<ms>&sign=<urlencoded base64>, appended to the token.
	u, body, err = notify.RobotRequest(notify.TypeDingTalk, "https://oapi.dingtalk.com/robot/send?access_token=abc123", secret, text, mentions, at)
	if err != nil {
		t.Fatal(err)
	}
	want := "https://oapi.dingtalk.com/robot/send?access_token=abc123&timestamp=" + strconv.FormatInt(ms, 10) + "&sign=" + url.QueryEscape(dingVector)
	if u != want {
		t.Errorf("dingtalk URL\n got %s\nwant %s", u, want)
	}
	pu, _ := url.Parse(u)
	if pu.Query().Get("sign") != dingVector || pu.Query().Get("access_token") != "abc123" {
		t.Errorf("dingtalk query decodes to %v", pu.Query())
	}
	golden(t, "robot_dingtalk.json", body)

	// Feishu: timestamp (seconds, a string) and sign in the body.
	u, body, err = notify.RobotRequest(notify.TypeFeishu, "https://open.feishu.cn/open-apis/bot/v2/hook/0f5a-token", secret, text, nil, at)
	if err != nil {
		t.Fatal(err)
	}
	if u != "https://open.feishu.cn/open-apis/bot/v2/hook/0f5a-token" {
		t.Errorf("feishu URL changed: %s", u)
	}
	var fb struct {
		Timestamp string `json:"timestamp"`
		Sign      string `json:"sign"`
		MsgType   string `json:"msg_type"`
		Content   struct {
			Text string `json:"text"`
		} `json:"content"`
	}
	if err := json.Unmarshal(body, &fb); err != nil {
		t.Fatal(err)
	}
	if fb.Timestamp != strconv.FormatInt(sec, 10) || fb.Sign != feishuVector || fb.MsgType != "text" || fb.Content.Text != text {
		t.Errorf("feishu body %s", body)
	}
	golden(t, "robot_feishu.json", body)

	// Without a secret nothing is signed.
	u, _, _ = notify.RobotRequest(notify.TypeDingTalk, "https://oapi.dingtalk.com/robot/send?access_token=abc123", "", text, nil, at)
	_, body, _ = notify.RobotRequest(notify.TypeFeishu, "https://open.feishu.cn/open-apis/bot/v2/hook/0f5a-token", "", text, nil, at)
	if strings.Contains(u, "sign=") || strings.Contains(string(body), `"sign"`) || strings.Contains(string(body), `"timestamp"`) {
		t.Errorf("unsigned requests carry a signature: %s %s", u, body)
	}
}

// TestRobotReply_SuccessIsHTTP200AndCodeZero: anything else is a failure that
// carries the vendor's message.
func TestRobotReply_SuccessIsHTTP200AndCodeZero(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		typ    string
		status int
		body   string
		errHas string // "" = success
	}{
		{notify.TypeWeCom, 200, `{"errcode":0,"errmsg":"ok"}`, ""},
		{notify.TypeWeCom, 200, `{"errcode":93000,"errmsg":"invalid webhook url"}`, "invalid webhook url"},
		{notify.TypeDingTalk, 200, `{"errcode":0,"errmsg":"ok"}`, ""},
		{notify.TypeDingTalk, 200, `{"errcode":310000,"errmsg":"sign not match"}`, "310000"},
		{notify.TypeDingTalk, 200, `{"errmsg":"ok"}`, "unexpected"},
		{notify.TypeDingTalk, 502, `<html>bad gateway</html>`, "HTTP 502"},
		{notify.TypeFeishu, 200, `{"code":0,"data":{},"msg":"success"}`, ""},
		{notify.TypeFeishu, 200, `{"StatusCode":0,"StatusMessage":"success"}`, ""},
		{notify.TypeFeishu, 200, `{"code":19021,"msg":"sign match fail or timestamp is not within one hour from current time"}`, "sign match fail"},
		{notify.TypeFeishu, 200, `{}`, "unexpected"},
		{notify.TypeFeishu, 400, `{"code":9499,"msg":"Bad Request"}`, "Bad Request"},
	} {
		err := notify.RobotReply(tc.typ, tc.status, []byte(tc.body))
		switch {
		case tc.errHas == "" && err != nil:
			t.Errorf("%s %d %s: %v, want success", tc.typ, tc.status, tc.body, err)
		case tc.errHas != "" && (err == nil || !strings.Contains(err.Error(), tc.errHas)):
			t.Errorf("%s %d %s: %v, want an error with %q", tc.typ, tc.status, tc.body, err, tc.errHas)
		}
	}
}

// TestMaskText_HidesPhoneAndIDNumbersOnly: robot messages never carry a full
// phone or ID number; counts, dates and times stay readable.
func TestMaskText_HidesPhoneAndIDNumbersOnly(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"13800138000":             "138****8000",
		"客户 138-0013-8000 来电":     "客户 138****8000 来电",
		"+86 138 0013 8000":       "138****8000",
		"057187654321":            "0571****4321",
		"身份证 11010519491231002X":  "身份证 110105********002X",
		"导入 20261123.xlsx 共 15 条": "导入 20261123.xlsx 共 15 条",
		"2026-11-23 17:00 前联系":    "2026-11-23 17:00 前联系",
		"张先生":                     "张先生",
	} {
		if got := notify.MaskText(in); got != want {
			t.Errorf("MaskText(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestMaskURL_HidesTokens: the robot URL is the credential.
func TestMaskURL_HidesTokens(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa9f2c": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=****9f2c",
		"https://oapi.dingtalk.com/robot/send?access_token=0123456789abcdef":                        "https://oapi.dingtalk.com/robot/send?access_token=****cdef",
		"https://open.feishu.cn/open-apis/bot/v2/hook/2f1c44e6-aaaa-bbbb-cccc-0123456789ab":         "https://open.feishu.cn/open-apis/bot/v2/hook/****89ab",
		"https://user:pw@erp.example.com/hooks/dd?token=short":                                      "https://erp.example.com/hooks/dd?token=****",
		"https://hooks.example.com/services/T0ABC1234/B0DEF5678/abcdefghijklmnopqrstuvwx":           "https://hooks.example.com/services/****1234/****5678/****uvwx",
		"https://hooks.zapier.com/hooks/catch/123456/abcdef/":                                       "https://hooks.zapier.com/hooks/catch/****/abcdef/",
	} {
		if got := notify.MaskURL(in); got != want {
			t.Errorf("MaskURL(%q) = %q, want %q", in, got, want)
		}
	}
}
