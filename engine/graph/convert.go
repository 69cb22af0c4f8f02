package graph

import (
	"fmt"
	"time"
)

// Graph JSON is outside data: every SDK getter may return nil. These
// helpers turn nils into zero values.

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func boolean(p *bool) bool { return p != nil && *p }

func i32(p *int32) int {
	if p == nil {
		return 0
	}
	return int(*p)
}

func i64(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func tm(p *time.Time) time.Time {
	if p == nil {
		return time.Time{}
	}
	return p.UTC()
}

// enumString renders an SDK enum pointer (nil → "").
func enumString[E fmt.Stringer](p *E) string {
	if p == nil {
		return ""
	}
	return (*p).String()
}

// additionalString reads a string from a model's additional data, which the
// JSON parser fills with *string (or string) values.
func additionalString(m map[string]any, key string) string {
	switch v := m[key].(type) {
	case string:
		return v
	case *string:
		return str(v)
	}
	return ""
}
