package crm

import (
	"dealerdesk/app/apperr"
	"dealerdesk/app/pii"
)

// normalizePhone returns the canonical number and its kind, or the error code
// for the phone field. An extension is not part of the identity (a switchboard
// number is shared); it is dropped here.
func normalizePhone(s string) (phone, kind, code string) {
	if s == "" {
		return "", "", "required"
	}
	p, err := pii.NormalizePhone(s)
	if err != nil {
		return "", "", apperr.As(err).Code
	}
	return p.Number, string(p.Kind), ""
}
