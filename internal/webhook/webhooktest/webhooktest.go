// Package webhooktest is a webhook receiver for tests: a loopback HTTP
// server that records what it is sent, and a check of a request by the
// Standard Webhooks rules, written from the specification
// (github.com/standard-webhooks/standard-webhooks, spec/standard-webhooks.md)
// and not from internal/webhook's signing, so that it tests it.
package webhooktest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Tolerance is how far a webhook-timestamp may be from the receiver's
// clock: the five minutes the specification suggests against replays.
const Tolerance = 5 * time.Minute

// Verify checks a request by the Standard Webhooks rules: the signed
// content is "<webhook-id>.<webhook-timestamp>.<body>"; the key is the
// base64 after "whsec_"; webhook-signature is a space-separated list of
// "v1,<base64 HMAC-SHA256>", one of which must match, compared in
// constant time; and the timestamp, in Unix seconds, must be within
// Tolerance of now.
func Verify(secret string, header http.Header, body []byte, now time.Time) error {
	id, ts, sigs := header.Get("webhook-id"), header.Get("webhook-timestamp"), header.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return fmt.Errorf("missing webhook-id, webhook-timestamp or webhook-signature")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("webhook-timestamp is not Unix seconds: %q", ts)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > Tolerance || d < -Tolerance {
		return fmt.Errorf("webhook-timestamp is %s from now, beyond the tolerance", d)
	}
	if !strings.HasPrefix(secret, "whsec_") {
		return fmt.Errorf("the secret lacks the whsec_ prefix")
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil || len(key) < 24 || len(key) > 64 {
		return fmt.Errorf("the secret is not the base64 of 24 to 64 bytes")
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "." + string(body)))
	want := mac.Sum(nil)
	for _, s := range strings.Split(sigs, " ") {
		version, sig, ok := strings.Cut(s, ",")
		if !ok || version != "v1" {
			continue
		}
		if got, err := base64.StdEncoding.DecodeString(sig); err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return fmt.Errorf("no signature matches: %s", sigs)
}

// Request is one request a Receiver got.
type Request struct {
	Path   string
	Header http.Header
	Body   []byte
}

// Receiver is a loopback endpoint recording every request; it answers
// the status set by Answer (204 at first).
type Receiver struct {
	URL      string
	mu       sync.Mutex
	requests []Request
	status   int
}

// Start starts a receiver, closed when the test ends.
func Start(t testing.TB) *Receiver {
	r := &Receiver{status: http.StatusNoContent}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.requests = append(r.requests, Request{Path: req.URL.Path, Header: req.Header.Clone(), Body: body})
		w.WriteHeader(r.status)
		if r.status >= 400 {
			io.WriteString(w, "receiver down for maintenance")
		}
	}))
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

// Requests returns the requests received so far.
func (r *Receiver) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.requests...)
}

// Answer sets the status of the next answers.
func (r *Receiver) Answer(status int) { r.mu.Lock(); r.status = status; r.mu.Unlock() }
