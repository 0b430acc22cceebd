package notify

import (
	"context"
	"crypto/tls"
	"fmt"
	"time"

	mail "github.com/wneessen/go-mail"
)

// E-mail goes out through the store's own mailbox (QQ/163 mail, 腾讯企业邮) or a
// relay on the LAN, with go-mail:
//
//	ssl       implicit TLS from the first byte (port 465: smtp.qq.com, smtp.163.com, smtp.exmail.qq.com)
//	starttls  plain connection upgraded with STARTTLS, which the server must offer (port 587)
//	none      no TLS at all (a relay on the LAN; port 25)
//
// With a username the client authenticates with PLAIN or LOGIN (Chinese mail
// providers take the mailbox's 授权码 as the password); over 'none' that sends
// the password in the clear, which is the administrator's choice for a LAN relay.

// The security modes of an e-mail channel.
const (
	SecuritySSL      = "ssl"
	SecuritySTARTTLS = "starttls"
	SecurityNone     = "none"
)

// defaultPort is the usual port of a security mode.
func defaultPort(security string) int {
	switch security {
	case SecuritySSL:
		return 465
	case SecuritySTARTTLS:
		return 587
	}
	return 25
}

// sendEmail sends one message to the channel's recipients.
func (s *Service) sendEmail(ctx context.Context, cfg ChannelConfig, subject, body string) (string, error) {
	m := mail.NewMsg()
	if err := m.FromFormat("DealerDesk", cfg.From); err != nil {
		return "", fmt.Errorf("from: %w", err)
	}
	if err := m.To(cfg.To...); err != nil {
		return "", fmt.Errorf("to: %w", err)
	}
	m.Subject(subject)
	m.SetBodyString(mail.TypeTextPlain, body)
	m.SetDateWithValue(s.clock.Now())
	m.SetMessageID()

	tc := &tls.Config{ServerName: cfg.Host, MinVersion: tls.VersionTLS12}
	if roots := s.tlsRoots.Load(); roots != nil {
		tc.RootCAs = roots
	}
	port := cfg.Port
	if port == 0 {
		port = defaultPort(cfg.Security)
	}
	opts := []mail.Option{mail.WithPort(port), mail.WithTimeout(sendTimeout), mail.WithTLSConfig(tc)}
	switch cfg.Security {
	case SecuritySSL:
		opts = append(opts, mail.WithSSL())
	case SecuritySTARTTLS:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	}
	if cfg.Username != "" {
		mechs := []mail.SMTPAuthType{mail.SMTPAuthPlain, mail.SMTPAuthLogin}
		if cfg.Security == SecurityNone {
			mechs = []mail.SMTPAuthType{mail.SMTPAuthPlainNoEnc, mail.SMTPAuthLoginNoEnc}
		}
		opts = append(opts, mail.WithOpportunisticSMTPAuth(mechs...), mail.WithUsername(cfg.Username), mail.WithPassword(cfg.Password))
	}
	c, err := mail.NewClient(cfg.Host, opts...)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	start := time.Now()
	if err := c.DialAndSendWithContext(ctx, m); err != nil {
		return "", err
	}
	return fmt.Sprintf("accepted for %d recipient(s) in %d ms", len(cfg.To), time.Since(start).Milliseconds()), nil
}
