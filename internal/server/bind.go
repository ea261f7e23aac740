package server

import (
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/labstack/echo/v4"
)

// bind is the one way a handler reads its input, into the endpoint's
// request type (wire names in `json`, `form` and `query` tags): the query
// string of a GET, or the body of a write. A JSON body is read strictly:
// an unknown field is refused, because a misspelt field silently ignored
// could change a legal deadline ("received_at" for "received_on"). The
// request type is then turned into the domain's input, whose rules the
// domain checks (internal/check).
func bind(c echo.Context, dst any) error {
	r := c.Request()
	if r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodDelete {
		if err := (&echo.DefaultBinder{}).BindQueryParams(c, dst); err != nil {
			return apperr.Field("query", "could not be read")
		}
		return nil
	}
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType))
	if mediaType == echo.MIMEApplicationForm || mediaType == echo.MIMEMultipartForm {
		if err := (&echo.DefaultBinder{}).BindBody(c, dst); err != nil {
			return apperr.Field("form", "could not be read")
		}
		return nil
	}
	if mediaType != echo.MIMEApplicationJSON || r.ContentLength == 0 {
		if err := (&echo.DefaultBinder{}).BindBody(c, dst); err != nil {
			return errNotJSON
		}
		return nil
	}
	d := json.NewDecoder(r.Body)
	d.DisallowUnknownFields()
	err := d.Decode(dst)
	if err == nil && d.More() {
		return errNotJSON
	}
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return apperr.Field(typeErr.Field, "must be "+jsonKind(typeErr.Type))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		return apperr.Field(name, "is not a field of this endpoint (check the spelling)")
	}
	var tooLarge *echo.HTTPError
	if errors.As(err, &tooLarge) {
		return err
	}
	return errNotJSON
}

var errNotJSON = echo.NewHTTPError(http.StatusBadRequest, "the request body is not valid JSON for this endpoint")

// jsonKind names the JSON a Go type decodes from.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "a list"
	}
	return "an object"
}
