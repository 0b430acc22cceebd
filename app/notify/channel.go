package notify

import (
	"context"
	"database/sql"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"

	"dealerdesk/app/api"
	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
	"dealerdesk/app/pii"
)

// A channel is a store's further way to hear of notifications: a group chat's
// robot (WeCom, DingTalk, Feishu) or an e-mail mailbox. It subscribes to kinds;
// Send queues one delivery per message and channel, the worker posts it.

// The channel types.
const (
	TypeWeCom    = "wecom"
	TypeDingTalk = "dingtalk"
	TypeFeishu   = "feishu"
	TypeEmail    = "email"
)

// ChannelTypes lists the channel types.
var ChannelTypes = []string{TypeWeCom, TypeDingTalk, TypeFeishu, TypeEmail}

func isRobot(t string) bool { return t == TypeWeCom || t == TypeDingTalk || t == TypeFeishu }

// ChannelConfig is a channel's settings, as stored and as sent in an input.
// Robots use URL, Secret (DingTalk 加签 / Feishu 签名校验), MentionMobiles and
// LinkBase; e-mail uses the rest and LinkBase.
type ChannelConfig struct {
	URL            string   `json:"url,omitempty"`
	Secret         string   `json:"secret,omitempty"`
	MentionMobiles []string `json:"mentionMobiles,omitempty"`
	// LinkBase is how the staff's browsers reach DealerDesk (e.g.
	// https://192.168.1.10:8443); when set, messages end with a link to the matter.
	LinkBase string   `json:"linkBase,omitempty"`
	Host     string   `json:"host,omitempty"`
	Port     int      `json:"port,omitempty"`
	Security string   `json:"security,omitempty"` // ssl | starttls | none
	Username string   `json:"username,omitempty"`
	Password string   `json:"password,omitempty"`
	From     string   `json:"from,omitempty"`
	To       []string `json:"to,omitempty"`
}

// SecretState tells whether a secret is stored, never the secret.
type SecretState struct {
	Set bool `json:"set"`
}

// ChannelConfigView is a channel's settings as the API shows them: the URL with
// its token masked, secrets as {"set":true}.
type ChannelConfigView struct {
	URL            string      `json:"url"`
	Secret         SecretState `json:"secret"`
	MentionMobiles []string    `json:"mentionMobiles"`
	LinkBase       string      `json:"linkBase"`
	Host           string      `json:"host"`
	Port           int         `json:"port"`
	Security       string      `json:"security"`
	Username       string      `json:"username"`
	Password       SecretState `json:"password"`
	From           string      `json:"from"`
	To             []string    `json:"to"`
}

func (c ChannelConfig) view() ChannelConfigView {
	v := ChannelConfigView{URL: MaskURL(c.URL), Secret: SecretState{c.Secret != ""}, MentionMobiles: c.MentionMobiles, LinkBase: c.LinkBase,
		Host: c.Host, Port: c.Port, Security: c.Security, Username: c.Username, Password: SecretState{c.Password != ""}, From: c.From, To: c.To}
	if v.MentionMobiles == nil {
		v.MentionMobiles = []string{}
	}
	if v.To == nil {
		v.To = []string{}
	}
	return v
}

// secrets are the config's credentials, scrubbed from every error text.
func (c ChannelConfig) secrets() []string {
	return append(credentials(c.URL), c.Secret, c.Password)
}

// Channel is a delivery channel as the API shows it.
type Channel struct {
	ID        int64             `json:"id"`
	StoreID   int64             `json:"storeId"`
	StoreName string            `json:"storeName"`
	Type      string            `json:"type"`
	Name      string            `json:"name"`
	Enabled   bool              `json:"enabled"`
	Kinds     []string          `json:"kinds"`
	Config    ChannelConfigView `json:"config"`
	Version   int64             `json:"version"`
	CreatedAt int64             `json:"createdAt"`
	CreatedBy *int64            `json:"createdBy"`
	UpdatedAt int64             `json:"updatedAt"`
	UpdatedBy *int64            `json:"updatedBy"`
	LastOKAt  *int64            `json:"lastOkAt"`
	LastError string            `json:"lastError"`

	config ChannelConfig // the stored settings, secrets included; never serialized
}

// ChannelInput creates or edits a channel. On edit, an empty (or still masked)
// url, an empty secret and an empty password keep the stored ones; ClearSecret
// removes the stored secret (a robot switched from signing to keywords).
type ChannelInput struct {
	StoreID     int64         `json:"storeId"` // 0: the actor's store (on edit: unchanged)
	Type        string        `json:"type"`
	Name        string        `json:"name"`
	Enabled     bool          `json:"enabled"`
	Kinds       []string      `json:"kinds"`
	Config      ChannelConfig `json:"config"`
	ClearSecret bool          `json:"clearSecret"`
	Version     int64         `json:"version"` // the version read, on edit
}

// ChannelTestInput is a channel's settings not saved yet, for the form's "send a
// test message" button. With ID, blank credentials are taken from that channel.
// The form may send its whole state: enabled, kinds and version are ignored.
type ChannelTestInput struct {
	ID          int64         `json:"id"`
	StoreID     int64         `json:"storeId"` // 0: the actor's store
	Type        string        `json:"type"`
	Name        string        `json:"name"`
	Config      ChannelConfig `json:"config"`
	ClearSecret bool          `json:"clearSecret"`
	Enabled     bool          `json:"enabled"`
	Kinds       []string      `json:"kinds"`
	Version     int64         `json:"version"`
}

// TestResult is the outcome of a test message.
type TestResult struct {
	OK    bool   `json:"ok"`
	Error string `json:"error"`
	// ErrorCode says in words what went wrong (an i18n key under
	// errors.channel.send: dns, timeout, refused, tls, auth, vendor, failed);
	// Error is the detail.
	ErrorCode  string `json:"errorCode"`
	DurationMS int64  `json:"durationMs"`
}

// Limits of a channel.
const (
	maxName       = 40
	maxRecipients = 20
	maxSecret     = 200
	maxURL        = 1000
)

// Normalize trims the texts, drops duplicate kinds and recipients and fills the
// e-mail port from the security mode.
func (in *ChannelInput) Normalize() {
	in.Type = strings.ToLower(strings.TrimSpace(in.Type))
	in.Name = strings.TrimSpace(in.Name)
	in.Kinds = uniq(in.Kinds)
	in.Config.normalize(in.Type)
}

func (c *ChannelConfig) normalize(typ string) {
	c.URL = strings.TrimSpace(c.URL)
	c.Secret = strings.TrimSpace(c.Secret)
	c.LinkBase = strings.TrimRight(strings.TrimSpace(c.LinkBase), "/")
	c.MentionMobiles = uniq(c.MentionMobiles)
	for i, m := range c.MentionMobiles {
		if n, ok := pii.NormalizeMobile(m); ok {
			c.MentionMobiles[i] = n
		}
	}
	c.MentionMobiles = uniq(c.MentionMobiles)
	c.Host = strings.TrimSpace(c.Host)
	c.Security = strings.ToLower(strings.TrimSpace(c.Security))
	c.Username = strings.TrimSpace(c.Username)
	c.From = strings.TrimSpace(c.From)
	c.To = uniq(c.To)
	if typ == TypeEmail {
		c.URL, c.Secret, c.MentionMobiles = "", "", nil
		if c.Port == 0 && c.Security != "" {
			c.Port = defaultPort(c.Security)
		}
		if c.Username == "" {
			c.Password = ""
		}
	} else if isRobot(typ) {
		c.Host, c.Port, c.Security, c.Username, c.Password, c.From, c.To = "", 0, "", "", "", "", nil
	}
}

// keep fills blank credentials of an edit from the stored settings: an empty or
// masked url, an empty secret (unless cleared), an empty password.
func (c *ChannelConfig) keep(stored ChannelConfig, clearSecret bool) {
	if c.URL == "" || c.URL == MaskURL(stored.URL) {
		c.URL = stored.URL
	}
	if c.Secret == "" && !clearSecret {
		c.Secret = stored.Secret
	}
	// The stored password goes only to the server it was entered for: a changed
	// host, port, security or account needs it typed again, so nobody can send
	// the saved 授权码 to a server of their choosing.
	if c.Password == "" && c.Username != "" && c.Username == stored.Username && c.Host == stored.Host &&
		c.Port == stored.Port && c.Security == stored.Security {
		c.Password = stored.Password
	}
}

func uniq(list []string) []string {
	out := []string{}
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// Validate checks the input's shape; anyHost lets a robot URL point anywhere
// (tests), else it must be the vendor's robot endpoint.
func (in *ChannelInput) Validate(anyHost bool) error { return in.validate(anyHost, true) }

// validate checks the input; without needKinds (a test message) the kinds may be empty.
func (in *ChannelInput) validate(anyHost, needKinds bool) error {
	f := apperr.Fields{}
	if in.StoreID <= 0 {
		f.Add("storeId", "required")
	}
	switch {
	case in.Type == "":
		f.Add("type", "required")
	case !slices.Contains(ChannelTypes, in.Type):
		f.Add("type", "channel.type_invalid")
	}
	checkName(f, in.Name)
	if len(in.Kinds) == 0 && needKinds {
		f.Add("kinds", "channel.kinds_empty")
	}
	for _, k := range in.Kinds {
		if _, ok := LookupKind(k); !ok {
			f.Add("kinds", "notify.unknown_kind", "kind", k)
		}
	}
	in.Config.validate(f, in.Type, anyHost)
	return f.Err()
}

func checkName(f apperr.Fields, name string) {
	switch {
	case name == "":
		f.Add("name", "required")
	case len([]rune(name)) > maxName:
		f.Add("name", "too_long", "max", maxName)
	}
}

func (c ChannelConfig) validate(f apperr.Fields, typ string, anyHost bool) {
	if c.LinkBase != "" {
		u, err := url.Parse(c.LinkBase)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || len(c.LinkBase) > 200 {
			f.Add("linkBase", "channel.link_base_invalid")
		}
	}
	if isRobot(typ) {
		if code := checkRobotURL(typ, c.URL, anyHost); code != "" {
			f.Add("url", code)
		}
		if len(c.Secret) > maxSecret {
			f.Add("secret", "too_long", "max", maxSecret)
		}
		if len(c.MentionMobiles) > maxRecipients {
			f.Add("mentionMobiles", "out_of_range", "min", 0, "max", maxRecipients)
		}
		for _, m := range c.MentionMobiles {
			if _, ok := pii.NormalizeMobile(m); !ok {
				f.Add("mentionMobiles", "phone.invalid")
			}
		}
		return
	}
	if typ != TypeEmail {
		return
	}
	switch {
	case c.Host == "":
		f.Add("host", "required")
	case len(c.Host) > 253 || strings.ContainsAny(c.Host, " /:@"):
		f.Add("host", "channel.host_invalid")
	}
	switch c.Security {
	case "":
		f.Add("security", "required")
	case SecuritySSL, SecuritySTARTTLS, SecurityNone:
	default:
		f.Add("security", "channel.security_invalid")
	}
	if c.Port < 1 || c.Port > 65535 {
		f.Add("port", "out_of_range", "min", 1, "max", 65535)
	}
	if c.Username != "" && c.Password == "" {
		f.Add("password", "required")
	}
	if len(c.Username) > 200 {
		f.Add("username", "too_long", "max", 200)
	}
	if len(c.Password) > maxSecret {
		f.Add("password", "too_long", "max", maxSecret)
	}
	switch {
	case c.From == "":
		f.Add("from", "required")
	case !validEmail(c.From):
		f.Add("from", "channel.email_invalid")
	}
	switch {
	case len(c.To) == 0:
		f.Add("to", "required")
	case len(c.To) > maxRecipients:
		f.Add("to", "out_of_range", "min", 1, "max", maxRecipients)
	}
	for _, t := range c.To {
		if !validEmail(t) {
			f.Add("to", "channel.email_invalid", "address", t)
		}
	}
}

// validEmail accepts a bare address (name@domain), nothing more.
func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && a.Name == "" && strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".")
}

// robotEndpoints are the vendors' robot URLs: host and path prefix, and where the
// token is (query parameter, or the path after the prefix).
var robotEndpoints = map[string]struct{ host, path, query string }{
	TypeWeCom:    {"qyapi.weixin.qq.com", "/cgi-bin/webhook/send", "key"},
	TypeDingTalk: {"oapi.dingtalk.com", "/robot/send", "access_token"},
	TypeFeishu:   {"open.feishu.cn", "/open-apis/bot/v2/hook/", ""},
}

// checkRobotURL returns the field error code of a robot URL, or "".
func checkRobotURL(typ, raw string, anyHost bool) string {
	if raw == "" {
		return "required"
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || len(raw) > maxURL {
		return "channel.url_invalid"
	}
	if anyHost {
		return ""
	}
	ep := robotEndpoints[typ]
	if u.Scheme != "https" || !strings.EqualFold(u.Host, ep.host) {
		return "channel.url_host"
	}
	if ep.query != "" {
		if u.Path != ep.path || u.Query().Get(ep.query) == "" {
			return "channel.url_host"
		}
		return ""
	}
	if !strings.HasPrefix(u.Path, ep.path) || len(u.Path) == len(ep.path) || strings.Contains(u.Path[len(ep.path):], "/") {
		return "channel.url_host"
	}
	return ""
}

// ListChannels returns the channels of the stores in the actor's scope, or of one store.
func (s *Service) ListChannels(ctx context.Context, a auth.Actor, storeID int64) ([]Channel, error) {
	if err := auth.Require(a, auth.PermSettingsManage); err != nil {
		return nil, err
	}
	if storeID != 0 {
		if err := checkStore(a, storeID); err != nil {
			return nil, err
		}
	}
	return listChannels(ctx, s.db.R, a, storeID)
}

// checkStore: the actor manages settings and the store is in scope (else 404).
func checkStore(a auth.Actor, storeID int64) error {
	return auth.Check(a, auth.PermSettingsManage, auth.Record{StoreID: storeID})
}

// CreateChannel adds a channel to a store (audited, secrets masked).
func (s *Service) CreateChannel(ctx context.Context, a auth.Actor, in ChannelInput) (Channel, error) {
	if err := auth.Require(a, auth.PermSettingsManage); err != nil {
		return Channel{}, err
	}
	in.Normalize()
	if in.StoreID == 0 {
		in.StoreID = a.StoreID
	}
	if err := in.Validate(s.anyHost.Load()); err != nil {
		return Channel{}, err
	}
	if err := checkStore(a, in.StoreID); err != nil {
		return Channel{}, err
	}
	var out Channel
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		if err := storeExists(ctx, tx, in.StoreID); err != nil {
			return err
		}
		id, err := insertChannel(ctx, tx, in, a.UserID, s.now())
		if err != nil {
			return err
		}
		if out, err = getChannel(ctx, tx, id); err != nil {
			return err
		}
		return s.auditAt(ctx, tx, a, "create", "notify_channel", id, out.StoreID, nil, out)
	})
	return out, err
}

// UpdateChannel edits a channel (optimistic: in.Version must be the stored one).
// Its type cannot change. Switching it off drops the messages still queued for it.
func (s *Service) UpdateChannel(ctx context.Context, a auth.Actor, id int64, in ChannelInput) (Channel, error) {
	if err := auth.Require(a, auth.PermSettingsManage); err != nil {
		return Channel{}, err
	}
	in.Normalize()
	var out Channel
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		before, err := getChannel(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := checkStore(a, before.StoreID); err != nil {
			return err
		}
		if in.Type == "" {
			in.Type = before.Type
		}
		if in.Type != before.Type {
			return apperr.Field("type", "channel.type_fixed")
		}
		if in.StoreID == 0 {
			in.StoreID = before.StoreID
		}
		in.Config.keep(before.config, in.ClearSecret)
		if err := in.Validate(s.anyHost.Load()); err != nil {
			return err
		}
		if err := checkStore(a, in.StoreID); err != nil {
			return err
		}
		if in.Version != before.Version {
			return apperr.New(apperr.Conflict, "conflict.stale")
		}
		if err := storeExists(ctx, tx, in.StoreID); err != nil {
			return err
		}
		if err := updateChannel(ctx, tx, id, in, a.UserID, s.now()); err != nil {
			return err
		}
		if before.Enabled && !in.Enabled {
			if err := dropQueued(ctx, tx, id, s.now()); err != nil {
				return err
			}
		}
		if out, err = getChannel(ctx, tx, id); err != nil {
			return err
		}
		return s.auditAt(ctx, tx, a, "update", "notify_channel", id, out.StoreID, before, out)
	})
	return out, err
}

// DeleteChannel removes a channel and its delivery log.
func (s *Service) DeleteChannel(ctx context.Context, a auth.Actor, id int64) error {
	if err := auth.Require(a, auth.PermSettingsManage); err != nil {
		return err
	}
	return s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		before, err := getChannel(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := checkStore(a, before.StoreID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM notify_channel WHERE id = ?`, id); err != nil {
			return err
		}
		return s.auditAt(ctx, tx, a, "delete", "notify_channel", id, before.StoreID, before, nil)
	})
}

// TestChannel sends a test message through a saved channel now and records it
// in the channel's delivery log.
func (s *Service) TestChannel(ctx context.Context, a auth.Actor, id int64) (TestResult, error) {
	if err := auth.Require(a, auth.PermSettingsManage); err != nil {
		return TestResult{}, err
	}
	ch, err := getChannel(ctx, s.db.R, id)
	if err != nil {
		return TestResult{}, err
	}
	if err := checkStore(a, ch.StoreID); err != nil {
		return TestResult{}, err
	}
	title, body := s.testMessage(ch.Type, ch.Name, ch.config)
	job, err := s.insertTestDelivery(ctx, ch, title, body)
	if err != nil {
		return TestResult{}, err
	}
	start := time.Now() // a duration, so the real clock
	resp, sendErr := s.deliverChannel(ctx, ch.Type, ch.config, title, body)
	res := TestResult{OK: sendErr == nil, DurationMS: time.Since(start).Milliseconds()}
	if sendErr != nil {
		res.Error = sanitize(sendErr, ch.config.secrets()...)
		res.ErrorCode = sendErrorCode(sendErr)
	}
	if err := s.finishChannel(context.WithoutCancel(ctx), job, resp, res.Error, true); err != nil {
		return res, err
	}
	return res, nil
}

// TestChannelConfig sends a test message with settings not saved yet. Nothing
// is stored.
func (s *Service) TestChannelConfig(ctx context.Context, a auth.Actor, t ChannelTestInput) (TestResult, error) {
	if err := auth.Require(a, auth.PermSettingsManage); err != nil {
		return TestResult{}, err
	}
	in := ChannelInput{StoreID: t.StoreID, Type: t.Type, Name: t.Name, Enabled: true, Config: t.Config}
	in.Normalize()
	if in.StoreID == 0 {
		in.StoreID = a.StoreID
	}
	if t.ID != 0 {
		stored, err := getChannel(ctx, s.db.R, t.ID)
		if err != nil {
			return TestResult{}, err
		}
		if err := checkStore(a, stored.StoreID); err != nil {
			return TestResult{}, err
		}
		if stored.Type == in.Type {
			in.Config.keep(stored.config, t.ClearSecret)
		}
	}
	if err := in.validate(s.anyHost.Load(), false); err != nil {
		return TestResult{}, err
	}
	if err := checkStore(a, in.StoreID); err != nil {
		return TestResult{}, err
	}
	title, body := s.testMessage(in.Type, in.Name, in.Config)
	start := time.Now()
	_, sendErr := s.deliverChannel(ctx, in.Type, in.Config, title, body)
	res := TestResult{OK: sendErr == nil, DurationMS: time.Since(start).Milliseconds()}
	if sendErr != nil {
		res.Error = sanitize(sendErr, in.Config.secrets()...)
		res.ErrorCode = sendErrorCode(sendErr)
		s.log.Info("notify channel test failed", "type", in.Type, "err", res.Error)
	}
	return res, nil
}

// testMessage renders the test message of a channel.
func (s *Service) testMessage(typ, name string, cfg ChannelConfig) (title, body string) {
	title = s.renderTitle("notify.msg.channel_test", map[string]any{"name": name})
	return title, renderBody(typ, title, cfg.LinkBase, "/")
}

// DeliveryFilter selects a page of the channels' delivery log.
type DeliveryFilter struct {
	ChannelID int64
	Status    string
	Cursor    string
	Limit     int
}

// Delivery is one message to one channel, queued or done.
type Delivery struct {
	ID          int64  `json:"id"`
	ChannelID   int64  `json:"channelId"`
	ChannelName string `json:"channelName"`
	ChannelType string `json:"channelType"`
	StoreID     int64  `json:"storeId"`
	Kind        string `json:"kind"` // a notification kind, or "test"
	Title       string `json:"title"`
	Body        string `json:"body"`
	Status      string `json:"status"` // pending | sending | sent | failed
	Attempts    int    `json:"attempts"`
	NextAt      int64  `json:"nextAt"`
	LastError   string `json:"lastError"`
	Response    string `json:"response"`
	CreatedAt   int64  `json:"createdAt"`
	SentAt      *int64 `json:"sentAt"`
}

// The delivery statuses.
const (
	StatusPending = "pending"
	StatusSending = "sending"
	StatusSent    = "sent"
	StatusFailed  = "failed"
)

func validStatus(s string) bool {
	return s == StatusPending || s == StatusSending || s == StatusSent || s == StatusFailed
}

// ListDeliveries returns the delivery log of the channels in the actor's scope,
// newest first, keyset-paged by id.
func (s *Service) ListDeliveries(ctx context.Context, a auth.Actor, f DeliveryFilter) (api.List[Delivery], error) {
	out := api.List[Delivery]{Items: []Delivery{}}
	if err := auth.Require(a, auth.PermSettingsManage); err != nil {
		return out, err
	}
	if f.Status != "" && !validStatus(f.Status) {
		return out, apperr.Field("status", "invalid_format")
	}
	cur, err := api.ParseCursor(f.Cursor)
	if err != nil {
		return out, err
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	items, err := listDeliveries(ctx, s.db.R, a, f, cur.ID, f.Limit+1)
	if err != nil {
		return out, err
	}
	if len(items) > f.Limit {
		items = items[:f.Limit]
		out.Next = api.Cursor{ID: items[len(items)-1].ID}.Encode()
	}
	out.Items = items
	return out, nil
}

// RetryDelivery sends a queued, failed or sent message again now (one attempt,
// counted with the others: a message out of attempts fails again at once).
func (s *Service) RetryDelivery(ctx context.Context, a auth.Actor, id int64) (Delivery, error) {
	if err := auth.Require(a, auth.PermSettingsManage); err != nil {
		return Delivery{}, err
	}
	d, err := getDelivery(ctx, s.db.R, id)
	if err != nil {
		return Delivery{}, err
	}
	if err := checkStore(a, d.StoreID); err != nil {
		return Delivery{}, err
	}
	job, err := s.claimChannelOne(ctx, id)
	if err != nil {
		return Delivery{}, err
	}
	s.runChannelJob(ctx, job)
	s.Wake()
	return getDelivery(ctx, s.db.R, id)
}
