// Package apperr defines the error kinds of DealerDesk and the one JSON error shape.
//
// Every error that reaches a user is classified once with a Kind; the HTTP error
// handler maps the kind to a status and translates Code (an i18n key under
// "errors.") into the request's language. Anything unclassified is Internal and
// its cause is logged, never shown.
package apperr

import (
	"errors"
	"fmt"
	"net/http"
)

// Kind classifies an error for the HTTP layer.
type Kind string

// The error kinds; each maps to one HTTP status.
const (
	Invalid          Kind = "invalid"
	Unauthenticated  Kind = "unauthenticated"
	Forbidden        Kind = "forbidden"
	NotFound         Kind = "not_found"
	Conflict         Kind = "conflict"
	TooLarge         Kind = "too_large"
	UnsupportedMedia Kind = "unsupported_media"
	TooMany          Kind = "too_many"
	Internal         Kind = "internal"
	// Unprocessable: the request is well-formed but the record's state refuses
	// it (an SOP gate not met); Details say what is missing.
	Unprocessable Kind = "unprocessable"
)

// Status returns the HTTP status code of the kind.
func (k Kind) Status() int {
	switch k {
	case Invalid:
		return http.StatusBadRequest
	case Unauthenticated:
		return http.StatusUnauthorized
	case Forbidden:
		return http.StatusForbidden
	case NotFound:
		return http.StatusNotFound
	case Conflict:
		return http.StatusConflict
	case Unprocessable:
		return http.StatusUnprocessableEntity
	case TooLarge:
		return http.StatusRequestEntityTooLarge
	case UnsupportedMedia:
		return http.StatusUnsupportedMediaType
	case TooMany:
		return http.StatusTooManyRequests
	default:
		return http.StatusInternalServerError
	}
}

// FieldError is a problem with one input field. Code is an i18n key under
// "errors."; Params fill placeholders such as {max}.
type FieldError struct {
	Code   string         `json:"code"`
	Params map[string]any `json:"params,omitempty"`
}

// Error is a classified error.
type Error struct {
	Kind    Kind
	Code    string // i18n key under "errors."; defaults to the kind
	Fields  map[string]FieldError
	Details map[string]any // extra machine-readable data, e.g. retryAfterSeconds
	Err     error          // cause, logged for Internal, never shown
}

func (e *Error) Error() string {
	msg := string(e.Kind)
	if e.Code != "" && e.Code != string(e.Kind) {
		msg += " (" + e.Code + ")"
	}
	for name, f := range e.Fields {
		msg += fmt.Sprintf(" %s:%s", name, f.Code)
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error of the kind with the code.
func New(kind Kind, code string) *Error {
	if code == "" {
		code = string(kind)
	}
	return &Error{Kind: kind, Code: code}
}

// Wrap classifies err as kind with code, keeping err as the cause.
func Wrap(kind Kind, code string, err error) *Error {
	e := New(kind, code)
	e.Err = err
	return e
}

// Fields collects field errors while validating an input.
type Fields map[string]FieldError

// Add records the first problem of a field; later ones for the same field are dropped
// so the user sees one clear message per field.
func (f Fields) Add(field, code string, params ...any) {
	if _, ok := f[field]; ok {
		return
	}
	fe := FieldError{Code: code}
	if len(params) > 1 {
		fe.Params = map[string]any{}
		for i := 0; i+1 < len(params); i += 2 {
			fe.Params[fmt.Sprint(params[i])] = params[i+1]
		}
	}
	f[field] = fe
}

// Err returns nil when there are no field errors, else an Invalid error holding them.
func (f Fields) Err() error {
	if len(f) == 0 {
		return nil
	}
	return &Error{Kind: Invalid, Code: string(Invalid), Fields: f}
}

// Field returns an Invalid error for a single field.
func Field(field, code string, params ...any) error {
	f := Fields{}
	f.Add(field, code, params...)
	return f.Err()
}

// As returns the classified error in err's chain, or an Internal error wrapping err.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Kind: Internal, Code: string(Internal), Err: err}
}

// KindOf returns the kind of err (Internal when unclassified).
func KindOf(err error) Kind { return As(err).Kind }

// Is reports whether err is classified with kind.
func Is(err error, kind Kind) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == kind
}
