package check_test

import (
	"reflect"
	"testing"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/check"
)

type sample struct {
	Name         string `validate:"required,max=5"`
	ManagerEmail string `validate:"omitempty,address"`
	Kind         string `validate:"oneof=staff contractor"`
	StartDate    string `validate:"date"`
	CVSSScore    string `validate:"omitempty,max=3"`
	Renamed      string `field:"url" validate:"omitempty,url"`
	Count        *int   `validate:"required"`
}

func TestStruct(t *testing.T) {
	one := 1
	v := check.New()
	tests := []struct {
		name string
		in   sample
		want check.Errors
	}{
		{"all sound", sample{Name: "Ana", Kind: "staff", StartDate: "2026-01-31", Count: &one}, check.Errors{}},
		{"every rule fails", sample{Name: "Anastasia", ManagerEmail: "ana at example", Kind: "boss", StartDate: "31/01/2026",
			CVSSScore: "10.00", Renamed: "not a url"}, check.Errors{
			"name":          "must be at most 5 characters",
			"manager_email": "must be an email address such as name@example.com",
			"kind":          "must be one of staff, contractor",
			"start_date":    "must be a date as YYYY-MM-DD",
			"cvss_score":    "must be at most 3 characters",
			"url":           "must be a URL such as https://example.com",
			"count":         "is required",
		}},
		{"required", sample{Kind: "staff", StartDate: "2026-02-30", Count: &one}, check.Errors{
			"name": "is required", "start_date": "must be a date as YYYY-MM-DD"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := v.Struct(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	e := check.Errors{}
	if e.Err() != nil {
		t.Fatal("no problems must be no error")
	}
	e.Add("end_date", "must not be before the start date")
	e.Add("end_date", "second problem is dropped")
	if !e.Has("end_date") || e.Has("start_date") {
		t.Fatalf("Has: %v", e)
	}
	ae, ok := apperr.As(e.Err())
	if !ok || ae.Kind != apperr.Invalid || ae.Fields["end_date"] != "must not be before the start date" {
		t.Fatalf("Err: %#v", e.Err())
	}
}

func TestFieldName(t *testing.T) {
	for goName, want := range map[string]string{"Email": "email", "ManagerEmail": "manager_email", "CVSSScore": "cvss_score",
		"CVE": "cve", "DPOEmail": "dpo_email", "URL": "url", "NDAAccepted": "nda_accepted"} {
		if got := check.FieldName(reflect.StructField{Name: goName}); got != want {
			t.Errorf("%s: got %s, want %s", goName, got, want)
		}
	}
}
