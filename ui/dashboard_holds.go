package ui

import (
	"strconv"
	"strings"
)

// holdsLine is "The backup holds 3,214 emails, 420 files, 56 calendar
// events and 38 contacts." ("" when nothing is known).
func holdsLine(h *Holdings) string {
	if h == nil {
		return ""
	}
	var parts []string
	add := func(n int64, one, many string) {
		if n > 0 {
			parts = append(parts, groupThousands(n)+" "+rwPick(int(min(n, 2)), one, many))
		}
	}
	add(h.Emails, "email", "emails")
	add(h.Files, "file", "files")
	add(h.Events, "calendar event", "calendar events")
	add(h.Contacts, "contact", "contacts")
	if len(parts) == 0 {
		return ""
	}
	return "The backup holds " + rwJoinAnd(parts) + "."
}

func groupThousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}
