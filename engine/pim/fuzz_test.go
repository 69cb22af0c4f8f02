package pim

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

var eventSeeds = []string{
	`{"id":"AAMk1","type":"seriesMaster","subject":"Weekly","start":{"dateTime":"2026-03-02T08:00:00.0000000","timeZone":"UTC"},"end":{"dateTime":"2026-03-02T09:00:00.0000000","timeZone":"UTC"},"originalStartTimeZone":"W. Europe Standard Time","recurrence":{"pattern":{"type":"weekly","interval":1,"daysOfWeek":["monday"]},"range":{"type":"numbered","startDate":"2026-03-02","numberOfOccurrences":8}},"cancelledOccurrences":["OID.AAMk1.2026-03-16"],"exceptionOccurrences":[{"id":"AAMk1_OCC","subject":"x","originalStart":"2026-03-09T08:00:00Z","start":{"dateTime":"2026-03-09T08:00:00","timeZone":"UTC"},"end":{"dateTime":"2026-03-09T09:00:00","timeZone":"UTC"}}],"attendees":[{"type":"required","emailAddress":{"name":"C","address":"c@x"}}],"isReminderOn":true,"reminderMinutesBeforeStart":15}`,
	`{"id":"AAMk2","isAllDay":true,"start":{"dateTime":"2026-04-09T15:00:00","timeZone":"UTC"},"end":{"dateTime":"2026-04-10T15:00:00","timeZone":"UTC"},"originalStartTimeZone":"Tokyo Standard Time"}`,
	`{"id":"AAMk3","start":{"dateTime":"garbage","timeZone":"UTC"}}`,
	`{"id":"AAMk4","recurrence":{"pattern":{"type":"relativeYearly","month":13,"index":"fifth"},"range":{"type":"endDate","endDate":"x"}},"start":{"dateTime":"2026-01-01T00:00:00","timeZone":"UTC"},"end":{"dateTime":"2026-01-01T00:00:00","timeZone":"UTC"}}`,
	`[]`, `null`, `{"id":""}`, `{"id":"a","exceptionOccurrences":[{"id":"b","exceptionOccurrences":[{"id":"c"}]}]}`,
}

// Whatever Graph might serve as an event, parsing either refuses it with
// ErrInvalid or gives an event that exports and restores without a panic.
func FuzzParseEvent(f *testing.F) {
	for _, s := range eventSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		e, err := ParseEvent(raw)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		_ = e.RestoreBody("tid")
		for i := range e.ExceptionOccurrences {
			_ = e.ExceptionOccurrences[i].ExceptionPatch()
		}
		var buf bytes.Buffer
		if err := WriteICS(&buf, "Calendar", []ICSEvent{{Event: e}}, time.Unix(0, 0)); err != nil && buf.Len() > 1<<30 {
			t.Fatal("runaway export")
		}
	})
}

var contactSeeds = []string{
	`{"id":"AAMkC1","displayName":"Mila Jansen","givenName":"Mila","surname":"Jansen","emailAddresses":[{"name":"Mila","address":"mila@x"}],"businessPhones":["+31"],"companyName":"Flour; & Co","birthday":"1990-05-01T00:00:00Z","homeAddress":{"city":"Utrecht"}}`,
	`{"id":"AAMkC2","birthday":"not a date","emailAddresses":[{}]}`, `{"id":5}`, `{}`,
}

func FuzzParseContact(f *testing.F) {
	for _, s := range contactSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		c, err := ParseContact(raw)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		_ = c.RestoreBody()
		_ = c.SearchText()
		var buf bytes.Buffer
		_ = WriteVCF(&buf, []VCFContact{{Contact: c, Photo: raw[:min(len(raw), 10)]}})
	})
}
