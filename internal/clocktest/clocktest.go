// Package clocktest is the movable clock that tests give services instead
// of time.Now, so that deadlines, expiries and windows are tested at fixed
// times.
package clocktest

import (
	"sync"
	"time"
)

// Clock is a clock tests move by hand; safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// New returns a clock showing t.
func New(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
