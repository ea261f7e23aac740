package org_test

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/files"
	"github.com/charter-registry/charter/internal/org"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
)

// pngOf encodes a w×h PNG.
func pngOf(t *testing.T, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestSetLogoChecksTheImage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		svc := org.NewService(st.DB, func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) })
		fs := files.InDatabase(st.DB)
		if _, err := svc.SetLogo(ctx, audit.System("admin"), fs, "logo.png", bytes.NewReader(pngOf(t, 8, 8))); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("before the profile: %v, want ErrNoProfile", err)
		}
		if _, err := svc.Seed(ctx, audit.System("seed"), seedProfile(t)); err != nil {
			t.Fatal(err)
		}
		good := pngOf(t, 64, 32)
		o, err := svc.SetLogo(ctx, audit.System("admin"), fs, "logo.png", bytes.NewReader(good))
		if err != nil || len(o.LogoSHA256) != 64 || o.LogoType != "image/png" {
			t.Fatalf("good logo: %+v %v", o, err)
		}
		var ev audit.Event
		st.DB.Order("seq DESC").First(&ev)
		if ev.Action != "organization.logo_set" {
			t.Fatalf("audit: %s", ev.Action)
		}
		truncated := append([]byte{}, good[:20]...)
		for name, c := range map[string]struct {
			file string
			body []byte
			want string
		}{
			"bad file":   {"logo.png", truncated, "readable"},
			"wrong type": {"logo.pdf", []byte("%PDF-1.4\n%âãÏÓ\n1 0 obj\n"), "must be one of"},
			"svg":        {"logo.svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), "must be one of"},
			"mismatch":   {"logo.jpg", good, "name ends in"},
			"oversized":  {"logo.png", append(append([]byte{}, good...), make([]byte, 1<<20)...), "larger than"},
			"too wide":   {"logo.png", pngOf(t, 5000, 1), "pixels"},
		} {
			_, err := svc.SetLogo(ctx, audit.System("admin"), fs, c.file, bytes.NewReader(c.body))
			e, ok := apperr.As(err)
			if !ok || e.Kind != apperr.Invalid || !strings.Contains(e.Fields["file"], c.want) {
				t.Errorf("%s: %v, want the file refused with %q", name, err, c.want)
			}
		}
		after, _ := svc.Get(ctx)
		if after.LogoSHA256 != o.LogoSHA256 {
			t.Fatal("a refused logo replaced the stored one")
		}
	})
}
