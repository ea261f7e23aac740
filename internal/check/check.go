// Package check is the one way Charter checks input. A domain's input type
// carries its field rules as validator/v10 tags (required, max, address,
// oneof, date, …); Validator.Struct runs them and names each failing field
// the way every interface does (the snake_case of the Go field name, or a
// `field` tag), with a sentence a person can act on. Rules that need other
// fields or data (an end date after the start, a slug that exists, the
// free-mail list) are added by the domain to the same Errors.
package check

import (
	"reflect"
	"strings"
	"time"
	"unicode"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/notify"
	"github.com/go-playground/validator/v10"
)

// Validator runs field rules. Build one per service (it caches each
// struct's parsed tags) and share it; it is safe for concurrent use.
type Validator struct{ v *validator.Validate }

// New returns a Validator that knows Charter's own rules besides
// validator/v10's: `address` (a bare email address, as notify delivers
// to) and `date` (a calendar date written YYYY-MM-DD).
func New() *Validator {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(FieldName)
	must(v.RegisterValidation("address", func(fl validator.FieldLevel) bool {
		return notify.ValidAddress(fl.Field().String())
	}))
	must(v.RegisterValidation("date", func(fl validator.FieldLevel) bool {
		_, err := time.Parse(time.DateOnly, fl.Field().String())
		return err == nil
	}))
	return &Validator{v: v}
}

func must(err error) {
	if err != nil {
		panic(err) // only a malformed rule name, fixed at compile time
	}
}

// Struct checks in's tags and returns one message per failing field (an
// empty Errors when all hold). in is a struct or a pointer to one.
func (v *Validator) Struct(in any) Errors {
	errs := Errors{}
	err := v.v.Struct(in)
	if err == nil {
		return errs
	}
	verrs, ok := err.(validator.ValidationErrors)
	if !ok {
		panic(err) // not a struct: a programming error
	}
	for _, fe := range verrs {
		errs.Add(fe.Field(), message(fe))
	}
	return errs
}

func message(fe validator.FieldError) string {
	switch fe.Tag() {
	case "required":
		return "is required"
	case "address", "email":
		return notify.AddressProblem
	case "max":
		if fe.Kind() == reflect.String {
			return "must be at most " + fe.Param() + " characters"
		}
		return "must be at most " + fe.Param()
	case "min":
		if fe.Kind() == reflect.String {
			return "must be at least " + fe.Param() + " characters"
		}
		return "must be at least " + fe.Param()
	case "oneof":
		return "must be one of " + strings.ReplaceAll(fe.Param(), " ", ", ")
	case "date":
		return "must be a date as YYYY-MM-DD"
	case "len":
		if fe.Kind() == reflect.String {
			return "must be exactly " + fe.Param() + " characters"
		}
		return "must have exactly " + fe.Param() + " entries"
	case "alpha":
		return "must contain letters only"
	case "uppercase":
		return "must be written in capital letters"
	case "url", "http_url":
		return "must be a URL such as https://example.com"
	}
	return "is not valid (" + fe.Tag() + ")"
}

// FieldName is the name a struct field goes by in field errors: its
// `field` tag, else the snake_case of its Go name (ManagerEmail →
// manager_email, CVSSScore → cvss_score). Request types on the wire use
// the same names, so an error points at what the client sent.
func FieldName(f reflect.StructField) string {
	if name := f.Tag.Get("field"); name != "" {
		return name
	}
	return snake(f.Name)
}

func snake(name string) string {
	r := []rune(name)
	var b strings.Builder
	for i, c := range r {
		if unicode.IsUpper(c) {
			prevLower := i > 0 && (unicode.IsLower(r[i-1]) || unicode.IsDigit(r[i-1]))
			acronymEnd := i > 0 && unicode.IsUpper(r[i-1]) && i+1 < len(r) && unicode.IsLower(r[i+1])
			if prevLower || acronymEnd {
				b.WriteByte('_')
			}
			c = unicode.ToLower(c)
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Errors holds one problem per field, keyed by field name. The first
// problem found for a field is the one reported.
type Errors map[string]string

// Add records problem for field unless the field already has one.
func (e Errors) Add(field, problem string) {
	if _, seen := e[field]; !seen {
		e[field] = problem
	}
}

// Has reports whether field has a problem, so a rule that builds on a
// field (a date compared with another) runs only when the field is sound.
func (e Errors) Has(field string) bool {
	_, ok := e[field]
	return ok
}

// Err returns the problems as an apperr.Invalid error, or nil when there
// are none.
func (e Errors) Err() error {
	if len(e) == 0 {
		return nil
	}
	return apperr.Fields(e)
}

// Date reads a YYYY-MM-DD calendar date (UTC midnight). Use it for a
// field whose `date` tag has already held.
func Date(s string) time.Time {
	t, _ := time.Parse(time.DateOnly, s)
	return t
}
