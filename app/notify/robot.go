package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The three chat robots, written by hand: each is one JSON POST to the robot's
// URL (STYLE §3: no SDK for a few lines).
//
//	WeCom (企业微信群机器人)  https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=KEY
//	    {"msgtype":"text","text":{"content":…,"mentioned_mobile_list":[…]}}; the key is the only credential.
//	DingTalk (钉钉自定义机器人) https://oapi.dingtalk.com/robot/send?access_token=T
//	    加签: &timestamp=<ms>&sign=urlencode(base64(HMAC-SHA256(key=secret, msg=ts+"\n"+secret)))
//	    {"msgtype":"text","text":{"content":…},"at":{"atMobiles":[…],"isAtAll":false}}
//	Feishu (飞书自定义机器人)  https://open.feishu.cn/open-apis/bot/v2/hook/TOKEN
//	    签名校验 in the body: "timestamp":"<s>","sign":base64(HMAC-SHA256(key=ts+"\n"+secret, msg=""))
//	    {"timestamp":…,"sign":…,"msg_type":"text","content":{"text":…}}
//
// Success is HTTP 200 and errcode 0 (WeCom, DingTalk) or code 0 (Feishu); any
// other answer is a failure carrying the vendor's message.

// maxRobotText bounds a robot message (WeCom refuses text over 2048 bytes).
const maxRobotText = 2000

// robotPost is the request a robot gets.
type robotPost struct {
	URL  string
	Body []byte
}

type wecomText struct {
	MsgType string `json:"msgtype"`
	Text    struct {
		Content  string   `json:"content"`
		Mentions []string `json:"mentioned_mobile_list,omitempty"`
	} `json:"text"`
}

type dingtalkText struct {
	MsgType string `json:"msgtype"`
	Text    struct {
		Content string `json:"content"`
	} `json:"text"`
	At struct {
		AtMobiles []string `json:"atMobiles"`
		IsAtAll   bool     `json:"isAtAll"`
	} `json:"at"`
}

type feishuText struct {
	Timestamp string `json:"timestamp,omitempty"`
	Sign      string `json:"sign,omitempty"`
	MsgType   string `json:"msg_type"`
	Content   struct {
		Text string `json:"text"`
	} `json:"content"`
}

// robotRequest builds the request for a robot of the type: text to post,
// mentions (mobiles to @), and the signing time now (used when secret is set).
func robotRequest(typ, rawURL, secret, text string, mentions []string, now time.Time) (robotPost, error) {
	text = truncate(text, maxRobotText)
	if mentions == nil {
		mentions = []string{}
	}
	var body any
	u := rawURL
	switch typ {
	case TypeWeCom:
		var m wecomText
		m.MsgType, m.Text.Content, m.Text.Mentions = "text", text, mentions
		body = m
	case TypeDingTalk:
		var m dingtalkText
		m.MsgType, m.Text.Content, m.At.AtMobiles = "text", text, mentions
		body = m
		if secret != "" {
			ts := now.UnixMilli()
			sep := "?"
			if strings.Contains(u, "?") {
				sep = "&"
			}
			u += sep + "timestamp=" + strconv.FormatInt(ts, 10) + "&sign=" + url.QueryEscape(dingtalkSign(secret, ts))
		}
	case TypeFeishu:
		var m feishuText
		m.MsgType, m.Content.Text = "text", text
		if secret != "" {
			ts := now.Unix()
			m.Timestamp, m.Sign = strconv.FormatInt(ts, 10), feishuSign(secret, ts)
		}
		body = m
	default:
		return robotPost{}, fmt.Errorf("notify: %q is not a robot", typ)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // links keep their & readable
	if err := enc.Encode(body); err != nil {
		return robotPost{}, err
	}
	return robotPost{URL: u, Body: bytes.TrimRight(buf.Bytes(), "\n")}, nil
}

// dingtalkSign is DingTalk's 加签 signature (before URL encoding) for a
// millisecond timestamp.
func dingtalkSign(secret string, tsMillis int64) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(tsMillis, 10) + "\n" + secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// feishuSign is Feishu's signature for a timestamp in seconds: the HMAC key is
// timestamp+"\n"+secret and the message is empty (the reverse of DingTalk's).
func feishuSign(secret string, tsSeconds int64) string {
	mac := hmac.New(sha256.New, []byte(strconv.FormatInt(tsSeconds, 10)+"\n"+secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// vendorError is a robot's own refusal (a bad key, a failed signature, a
// keyword rule), as opposed to not reaching it at all.
type vendorError string

func (e vendorError) Error() string { return string(e) }

// robotAnswer is the union of the vendors' reply shapes.
type robotAnswer struct {
	ErrCode    *int   `json:"errcode"` // WeCom, DingTalk
	ErrMsg     string `json:"errmsg"`
	Code       *int   `json:"code"` // Feishu
	Msg        string `json:"msg"`
	StatusCode *int   `json:"StatusCode"` // Feishu's older hook answer
	StatusMsg  string `json:"StatusMessage"`
}

// robotReply checks a robot's answer and returns it shortened for the log.
func robotReply(typ string, status int, body []byte) (string, error) {
	short := truncate(strings.TrimSpace(string(body)), 200)
	var a robotAnswer
	jsonErr := json.Unmarshal(body, &a)
	code, msg := a.ErrCode, a.ErrMsg
	if typ == TypeFeishu {
		code, msg = a.Code, a.Msg
		if code == nil {
			code, msg = a.StatusCode, a.StatusMsg
		}
	}
	switch {
	case status != http.StatusOK && code != nil:
		return short, vendorError(fmt.Sprintf("HTTP %d, code %d: %s", status, *code, msg))
	case status != http.StatusOK:
		return short, vendorError(fmt.Sprintf("HTTP %d", status))
	case jsonErr != nil || code == nil:
		return short, vendorError("unexpected answer: " + short)
	case *code != 0:
		return short, vendorError(fmt.Sprintf("code %d: %s", *code, msg))
	}
	return short, nil
}

// postRobot sends text to the channel's robot and returns the robot's answer.
func (s *Service) postRobot(ctx context.Context, typ string, cfg ChannelConfig, text string) (string, error) {
	p, err := robotRequest(typ, cfg.URL, cfg.Secret, text, cfg.MentionMobiles, s.clock.Now())
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.URL, bytes.NewReader(p.Body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", userAgent)
	resp, err := s.http.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	return robotReply(typ, resp.StatusCode, b)
}
