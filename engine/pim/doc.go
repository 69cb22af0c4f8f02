// Package pim knows what an Outlook event and contact are, in the JSON
// Microsoft Graph serves (learn.microsoft.com/graph/api/resources/event,
// /resources/contact): it parses that JSON as hostile input (bounded,
// never panicking), says what the catalog indexes of it, builds the bodies
// a restore posts back (a meeting becomes an appointment with its attendee
// list in the body, so nothing is sent to anyone), and exports calendars as
// RFC 5545 .ics (with VTIMEZONE built from the zone database for Windows
// zone names, RRULE, EXDATE and RECURRENCE-ID exceptions; emersion/go-ical)
// and contact folders as vCard 3.0 .vcf (emersion/go-vcard).
package pim
