package policy_test

import (
	"sync"
	"testing"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/policy"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
)

// TestConcurrentTransitions races writers on one version and on different
// policies: exactly one publication wins, the rest get a conflict (never an
// internal error), and the audit chain stays whole and unforked.
func TestConcurrentTransitions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		if _, err := f.svc.CreateDraft(f.ctx, f.alice, "backup", policy.Draft{Body: "new text", ChangeSummary: "race", Material: ptr(false)}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Approve(f.ctx, f.bob, "backup", "1.1"); err != nil {
			t.Fatal(err)
		}
		const n = 8
		var wg sync.WaitGroup
		errs := make([]error, n)
		reviewErrs := make([]error, n)
		slugs := []string{"password", "encryption", "backup", "incident-response", "code-of-conduct", "asset-management", "physical-security", "risk-assessment"}
		for i := range n {
			wg.Add(2)
			go func() { defer wg.Done(); _, errs[i] = f.svc.Publish(f.ctx, f.alice, "backup", "1.1") }()
			go func() {
				defer wg.Done()
				_, reviewErrs[i] = f.svc.RecordReview(f.ctx, f.bob, slugs[i], "concurrent review")
			}()
		}
		wg.Wait()
		won := 0
		for i, err := range errs {
			switch {
			case err == nil:
				won++
			case !apperr.Is(err, apperr.Conflict):
				t.Errorf("publisher %d: %v, want success or conflict", i, err)
			}
			if reviewErrs[i] != nil {
				t.Errorf("review %d: %v", i, reviewErrs[i])
			}
		}
		if won != 1 {
			t.Fatalf("%d publications succeeded, want exactly 1", won)
		}
		res, err := audit.Verify(f.ctx, st.DB)
		if err != nil || res.Break != nil {
			t.Fatalf("audit chain after the race: %+v %v", res, err)
		}
	})
}
