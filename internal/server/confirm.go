package server

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
)

// confirmPage asks, before an action that emails many people, for a
// second click, saying exactly what will happen. Its form posts the same
// fields again with confirm=yes.
type confirmPage struct {
	Title   string
	Problem string // why the page is shown again, if it is
	Lead    string // what will happen, with the numbers
	Details []string
	Columns []string // of Rows, a list of recipients
	Rows    [][]string
	Action  string
	Fields  []hiddenField
	Button  string // empty when there is nothing to do
	Cancel  string // where to go back to
	Back    string // its name
}

type hiddenField struct{ Name, Value string }

// confirmed reports whether the request is the confirming second step.
func confirmed(c echo.Context) bool { return c.FormValue("confirm") == "yes" }

func (k *kit) showConfirm(c echo.Context, status int, p confirmPage) error {
	return k.render(c, status, "confirm", p.Title, p)
}

// confirmStatus is the status of a confirmation page: 200, or 409 when it
// is shown again because what would happen changed.
func confirmStatus(problem string) int {
	if problem != "" {
		return http.StatusConflict
	}
	return http.StatusOK
}

// plural is "1 email" or "3 emails".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
