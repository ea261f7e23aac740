// Package apperr carries an error kind and a message that is safe to show to
// the user, so that every interface (HTML, JSON, CLI) maps domain errors the
// same way.
package apperr

import (
	"errors"
	"sort"
	"strings"
)

// Kind classifies an error for the interfaces.
type Kind int

// The kinds an interface distinguishes.
const (
	Internal Kind = iota
	Invalid
	NotFound
	Conflict
	Forbidden
	Unauthorized
	Gone
	// TooMany is a request refused by a rate limit.
	TooMany
)

// Error is a domain error with a user-facing message and, for Invalid, the
// message for each offending field.
type Error struct {
	Kind    Kind
	Message string
	Fields  map[string]string
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return e.Message
	}
	names := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		names = append(names, k)
	}
	sort.Strings(names)
	parts := make([]string, 0, len(names))
	for _, k := range names {
		parts = append(parts, k+": "+e.Fields[k])
	}
	return e.Message + " (" + strings.Join(parts, "; ") + ")"
}

// New returns an error of the given kind.
func New(kind Kind, message string) *Error {
	return &Error{Kind: kind, Message: message}
}

// Field returns an Invalid error naming one field and its problem.
func Field(name, problem string) *Error {
	return &Error{Kind: Invalid, Message: "invalid input", Fields: map[string]string{name: problem}}
}

// Fields returns an Invalid error naming several fields.
func Fields(fields map[string]string) *Error {
	return &Error{Kind: Invalid, Message: "invalid input", Fields: fields}
}

// KindOf returns the kind of err, Internal when err carries none.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// Is reports whether err is an *Error of the given kind.
func Is(err error, kind Kind) bool {
	return err != nil && KindOf(err) == kind
}

// As returns the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
