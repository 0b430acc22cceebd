package notify_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"io"
	"math/big"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"
)

// smtpServer is a tiny SMTP server on loopback, enough for go-mail: EHLO,
// STARTTLS, AUTH PLAIN and LOGIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT.
type smtpServer struct {
	ln       net.Listener
	tlsConf  *tls.Config
	startTLS bool // offer STARTTLS on a plain connection
	user     string
	pass     string

	mu   sync.Mutex
	msgs []smtpMsg
}

// smtpMsg is one message the server accepted.
type smtpMsg struct {
	From   string
	To     []string
	Data   string
	Authed string // the user that authenticated, "" for none
	Mech   string // PLAIN or LOGIN
	TLS    bool   // the connection was encrypted when the message came
}

// testCert makes a self-signed certificate for 127.0.0.1 and the pool trusting it.
func testCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "smtp.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

// startSMTP starts a server: mode "none" (plain), "starttls" (plain, offers
// STARTTLS) or "ssl" (TLS from the first byte). It returns the server, its port
// and the pool that trusts its certificate.
func startSMTP(t *testing.T, mode, user, pass string) (*smtpServer, int, *x509.CertPool) {
	t.Helper()
	cert, pool := testCert(t)
	s := &smtpServer{tlsConf: &tls.Config{Certificates: []tls.Certificate{cert}}, startTLS: mode == "starttls", user: user, pass: pass}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if mode == "ssl" {
		ln = tls.NewListener(ln, s.tlsConf)
	}
	s.ln = ln
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c, mode == "ssl")
		}
	}()
	return s, ln.Addr().(*net.TCPAddr).Port, pool
}

func (s *smtpServer) messages() []smtpMsg {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]smtpMsg(nil), s.msgs...)
}

func (s *smtpServer) serve(conn net.Conn, encrypted bool) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	tp := textproto.NewConn(conn)
	reply := func(line string) { _ = tp.PrintfLine("%s", line) }
	reply("220 smtp.test ESMTP ready")
	var cur smtpMsg
	authed, mech := "", ""
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			reply("250-smtp.test")
			if s.startTLS && !encrypted {
				reply("250-STARTTLS")
			}
			reply("250-8BITMIME")
			reply("250 AUTH PLAIN LOGIN")
		case "HELO":
			reply("250 smtp.test")
		case "STARTTLS":
			if !s.startTLS || encrypted {
				reply("502 not offered")
				continue
			}
			reply("220 go ahead")
			tc := tls.Server(conn, s.tlsConf)
			if err := tc.Handshake(); err != nil {
				return
			}
			conn, encrypted = tc, true
			tp = textproto.NewConn(conn)
			authed = ""
		case "AUTH":
			m, initial, _ := strings.Cut(arg, " ")
			var user, pass string
			switch strings.ToUpper(m) {
			case "PLAIN":
				if initial == "" {
					reply("334 ")
					if initial, err = tp.ReadLine(); err != nil {
						return
					}
				}
				b, _ := base64.StdEncoding.DecodeString(initial)
				parts := strings.Split(string(b), "\x00")
				if len(parts) == 3 {
					user, pass = parts[1], parts[2]
				}
			case "LOGIN":
				read := func(prompt string) string {
					reply("334 " + base64.StdEncoding.EncodeToString([]byte(prompt)))
					l, _ := tp.ReadLine()
					b, _ := base64.StdEncoding.DecodeString(l)
					return string(b)
				}
				if initial != "" {
					b, _ := base64.StdEncoding.DecodeString(initial)
					user = string(b)
				} else {
					user = read("Username:")
				}
				pass = read("Password:")
			default:
				reply("504 unknown mechanism")
				continue
			}
			if user != s.user || pass != s.pass {
				reply("535 authentication failed")
				continue
			}
			authed, mech = user, strings.ToUpper(m)
			reply("235 ok")
		case "MAIL":
			if s.user != "" && authed == "" {
				reply("530 authentication required")
				continue
			}
			cur = smtpMsg{From: addrArg(arg), Authed: authed, Mech: mech, TLS: encrypted}
			reply("250 ok")
		case "RCPT":
			cur.To = append(cur.To, addrArg(arg))
			reply("250 ok")
		case "DATA":
			reply("354 end with .")
			b, err := io.ReadAll(tp.DotReader())
			if err != nil {
				return
			}
			cur.Data = string(b)
			s.mu.Lock()
			s.msgs = append(s.msgs, cur)
			s.mu.Unlock()
			reply("250 queued")
		case "RSET", "NOOP":
			reply("250 ok")
		case "QUIT":
			reply("221 bye")
			return
		default:
			reply("500 unknown command")
		}
	}
}

// addrArg reads the address of "FROM:<a@b> SIZE=…" or "TO:<a@b>".
func addrArg(arg string) string {
	i, j := strings.IndexByte(arg, '<'), strings.IndexByte(arg, '>')
	if i < 0 || j < i {
		return arg
	}
	return arg[i+1 : j]
}
