package auth

import (
	_ "embed"
	"strings"
	"sync"
	"unicode"

	"github.com/alexedwards/argon2id"

	"dealerdesk/app/apperr"
)

// hashParams are the argon2id parameters for new hashes: 64 MiB, 3 passes,
// 2 lanes (OWASP ASVS 11.4.2). Tests lower them with SetHashCost to stay fast.
var (
	hashMu     sync.RWMutex
	hashParams = &argon2id.Params{Memory: 64 * 1024, Iterations: 3, Parallelism: 2, SaltLength: 16, KeyLength: 32}
)

// SetHashCost replaces the argon2id cost; only tests call it.
func SetHashCost(memoryKiB uint32, iterations uint32) {
	hashMu.Lock()
	defer hashMu.Unlock()
	p := *hashParams
	p.Memory, p.Iterations = memoryKiB, iterations
	hashParams = &p
}

// HashPassword returns the argon2id hash of pw.
func HashPassword(pw string) (string, error) {
	hashMu.RLock()
	p := hashParams
	hashMu.RUnlock()
	return argon2id.CreateHash(pw, p)
}

// CheckPassword reports whether pw matches the hash.
func CheckPassword(pw, hash string) bool {
	ok, err := argon2id.ComparePasswordAndHash(pw, hash)
	return err == nil && ok
}

// dummyHash is compared against when the account does not exist, so a sign-in
// takes about as long for unknown users as for known ones.
var dummyHash = sync.OnceValue(func() string {
	h, _ := HashPassword("dealerdesk-timing-equaliser")
	return h
})

//go:embed common_passwords.txt
var commonPasswordsText string

var commonPasswords = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	for _, l := range strings.Split(commonPasswordsText, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			m[strings.ToLower(l)] = true
		}
	}
	return m
})

// MaxPasswordLength bounds the input to the hash (argon2id has no 72-byte limit,
// but a megabyte password is a denial-of-service, not a password).
const MaxPasswordLength = 128

// ValidatePassword checks pw against the policy; field is the input's name for
// the error. Characters are counted as runes, so Chinese passwords count fairly.
func ValidatePassword(field, pw, username string, pol SecuritySettings) error {
	n := len([]rune(pw))
	if n < pol.PasswordMinLength {
		return apperr.Field(field, "password.too_short", "min", pol.PasswordMinLength)
	}
	if n > MaxPasswordLength {
		return apperr.Field(field, "too_long", "max", MaxPasswordLength)
	}
	var lower, upper, digit, other bool
	for _, r := range pw {
		switch {
		case unicode.IsLower(r):
			lower = true
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsDigit(r):
			digit = true
		default:
			other = true
		}
	}
	classes := 0
	for _, b := range []bool{lower, upper, digit, other} {
		if b {
			classes++
		}
	}
	if classes < pol.PasswordRequireClasses {
		return apperr.Field(field, "password.classes", "min", pol.PasswordRequireClasses)
	}
	if commonPasswords()[strings.ToLower(pw)] {
		return apperr.Field(field, "password.common")
	}
	if username != "" && strings.Contains(strings.ToLower(pw), strings.ToLower(username)) && len(username) >= 3 {
		return apperr.Field(field, "password.same_as_username")
	}
	return nil
}
