package m365sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"image"
	"image/color"
	"image/jpeg"
	"strings"
	"time"
)

// addDemoPIM gives a demo person calendars and an address book: a weekly
// team meeting with an exception and a cancelled occurrence, supplier
// visits, an all-day trade fair abroad, a second calendar for the shop's
// events, and contacts for the suppliers (with photos) and customers. Dates
// follow the demo's reference time, so the same seed gives the same data.
func (t *Tenant) addDemoPIM(g *demoGen, ui int) error {
	p := demoPeople[ui]
	upn := p.local + "@" + DemoDomain
	zone := "GMT Standard Time"
	ref := g.ref.UTC()
	monday := time.Date(ref.Year(), ref.Month(), ref.Day(), 0, 0, 0, 0, time.UTC)
	for monday.Weekday() != time.Monday {
		monday = monday.AddDate(0, 0, -1)
	}
	monday = monday.AddDate(0, 0, -14)
	day := func(d time.Time) string { return d.Format(time.DateOnly) }
	ev := func(subject, body string, d time.Time, from, to string) EventProps {
		e := EventProps{Subject: subject, Body: ItemBody{ContentType: "html", Content: "<p>" + body + "</p>"},
			Start: DateTimeTimeZone{DateTime: day(d) + "T" + from, TimeZone: zone}, End: DateTimeTimeZone{DateTime: day(d) + "T" + to, TimeZone: zone},
			IsReminderOn: true, ReminderMinutesBeforeStart: 15}
		e.Location.DisplayName = "Contoso Bakery, back office"
		return e
	}
	team := ev("Monday team meeting", "Orders for the week, rota, anything broken.", monday, "08:30:00", "09:00:00")
	team.Categories = []string{"Team"}
	for _, q := range demoPeople[:min(len(demoPeople), g.opts.Users)] {
		if q.local != p.local {
			var a EventAttendee
			a.Type, a.EmailAddress.Name, a.EmailAddress.Address = "required", q.name, q.local+"@"+DemoDomain
			team.Attendees = append(team.Attendees, a)
		}
	}
	team.Recurrence = &PatternedRecurrence{}
	team.Recurrence.Pattern.Type, team.Recurrence.Pattern.Interval = "weekly", 1
	team.Recurrence.Pattern.DaysOfWeek, team.Recurrence.Pattern.FirstDayOfWeek = []string{"monday"}, "monday"
	team.Recurrence.Range.Type, team.Recurrence.Range.StartDate, team.Recurrence.Range.NumberOfOccurrences = "numbered", day(monday), 12
	team.Recurrence.Range.RecurrenceTimeZone = zone

	t.mu.Lock()
	defer t.mu.Unlock()
	u, err := t.userLocked(upn)
	if err != nil {
		return err
	}
	// Demo data is what the mailbox already holds: nothing was sent.
	sent := len(t.outbox)
	defer func() { t.outbox = t.outbox[:sent] }()
	series, _, err := t.createEventLocked(u, "", team)
	if err != nil {
		return fmt.Errorf("m365sim: demo calendar of %s: %w", upn, err)
	}
	origs := series.originals(monday, monday.AddDate(0, 0, 60))
	if len(origs) > 3 {
		if x, err := t.eventOrOccurrenceLocked(u, occurrenceID(series.ID, origs[1]), true); err == nil {
			_, _ = t.updateEventLocked(u, x.ID, map[string]json.RawMessage{"subject": json.RawMessage(`"Monday team meeting (with the accountant)"`)})
		}
		_ = t.deleteEventLocked(u, occurrenceID(series.ID, origs[3]), "cancellation")
	}
	for i, s := range demoSuppliers[:min(len(demoSuppliers), 3+ui%3)] {
		d := monday.AddDate(0, 0, 3+7*i)
		e := ev("Visit: "+s.short, "Samples and next quarter's prices with "+s.contact+".", d, "14:00:00", "15:00:00")
		e.Categories = []string{"Suppliers"}
		if _, _, err := t.createEventLocked(u, "", e); err != nil {
			return err
		}
	}
	fair := ev("Bakery trade fair (Munich)", "Stand B12. Train at 06:10.", monday.AddDate(0, 0, 24), "00:00:00", "00:00:00")
	fair.Start.TimeZone, fair.End.TimeZone = "W. Europe Standard Time", "W. Europe Standard Time"
	fair.End.DateTime = day(monday.AddDate(0, 0, 26)) + "T00:00:00"
	fair.IsAllDay, fair.ShowAs, fair.IsReminderOn = true, "oof", false
	if _, _, err := t.createEventLocked(u, "", fair); err != nil {
		return err
	}
	shop, err := t.addCalendarLocked(u, "Shop events")
	if err != nil {
		return err
	}
	for i, s := range []string{"Sourdough workshop", "Wedding cake tasting", "Window display change"} {
		if _, _, err := t.createEventLocked(u, shop.ID, ev(s, s+" in the shop.", monday.AddDate(0, 0, 5+9*i), "17:00:00", "19:00:00")); err != nil {
			return err
		}
	}
	sup, err := t.addCFolderLocked(u, "", "Suppliers")
	if err != nil {
		return err
	}
	for _, s := range demoSuppliers {
		given, sur := s.contact, ""
		if i := strings.IndexByte(s.contact, ' '); i > 0 {
			given, sur = s.contact[:i], s.contact[i+1:]
		}
		c, err := t.addContactLocked(u, sup.ID, ContactProps{GivenName: given, Surname: sur, CompanyName: s.name,
			EmailAddresses: []contactEmail{{Name: s.contact, Address: s.local + "@" + s.domain}}, BusinessPhones: []string{fmt.Sprintf("+44 20 7946 %04d", len(s.domain)*97%10000)},
			BusinessHomePage: "https://www." + s.domain})
		if err != nil {
			return err
		}
		c.Photo, c.PhotoType = demoPhoto(s.contact), "image/jpeg"
	}
	for _, cu := range demoCustomers {
		given, sur := cu.name, ""
		if i := strings.IndexByte(cu.name, ' '); i > 0 {
			given, sur = cu.name[:i], cu.name[i+1:]
		}
		if _, err := t.addContactLocked(u, "", ContactProps{GivenName: given, Surname: sur, CompanyName: cu.company,
			EmailAddresses: []contactEmail{{Name: cu.name, Address: cu.local + "@" + cu.domain}}}); err != nil {
			return err
		}
	}
	return nil
}

// demoPhoto is a small JPEG unique to a name: a head-and-shoulders
// silhouette on a colour of its own, so a contact card shows a picture.
func demoPhoto(name string) []byte {
	h := fnv.New32a()
	h.Write([]byte(name))
	v := h.Sum32()
	bg := color.RGBA{uint8(90 + v%120), uint8(90 + (v>>8)%120), uint8(90 + (v>>16)%120), 255}
	fg := color.RGBA{245, 245, 245, 255}
	const n = 96
	img := image.NewRGBA(image.Rect(0, 0, n, n))
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			c := bg
			dx, dy := x-n/2, y-38
			head := dx*dx+dy*dy <= 17*17
			bx, by := x-n/2, y-100
			body := bx*bx+by*by <= 40*40
			if head || body {
				c = fg
			}
			img.SetRGBA(x, y, c)
		}
	}
	var b bytes.Buffer
	_ = jpeg.Encode(&b, img, &jpeg.Options{Quality: 85})
	return b.Bytes()
}
