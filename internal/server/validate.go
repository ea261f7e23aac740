package server

import (
	"errors"
	"reflect"
	"strings"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/go-playground/validator/v10"
)

// structValidator runs validator/v10 tags and reports each failing field
// under its JSON (or form) name with a sentence a person can act on.
type structValidator struct{ v *validator.Validate }

func newValidator() *structValidator {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		for _, tag := range []string{"json", "form", "query"} {
			if name, _, _ := strings.Cut(f.Tag.Get(tag), ","); name != "" && name != "-" {
				return name
			}
		}
		return f.Name
	})
	return &structValidator{v: v}
}

// Validate implements echo.Validator.
func (sv *structValidator) Validate(i any) error {
	err := sv.v.Struct(i)
	if err == nil {
		return nil
	}
	var verrs validator.ValidationErrors
	if !errors.As(err, &verrs) {
		return err
	}
	fields := map[string]string{}
	for _, fe := range verrs {
		fields[fe.Field()] = message(fe)
	}
	return apperr.Fields(fields)
}

func message(fe validator.FieldError) string {
	switch fe.Tag() {
	case "required":
		return "is required"
	case "email":
		return "must be an email address"
	case "max":
		return "must be at most " + fe.Param() + " characters"
	case "min":
		return "must be at least " + fe.Param() + " characters"
	case "oneof":
		return "must be one of " + strings.ReplaceAll(fe.Param(), " ", ", ")
	case "datetime":
		return "must be a date as YYYY-MM-DD"
	}
	return "is not valid (" + fe.Tag() + ")"
}
