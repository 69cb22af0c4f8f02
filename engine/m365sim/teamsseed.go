package m365sim

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"time"
)

// SampleTeamOptions shapes AddSampleTeam.
type SampleTeamOptions struct {
	// Threads is how many conversations each channel gets (default 3),
	// each with Replies replies (default 2).
	Threads, Replies int
	// Start is when the first message was written (default a week before
	// the tenant's clock); messages follow an hour apart.
	Start time.Time
}

// AddSampleTeam creates a team with a standard, a private and a shared
// channel beside General, each with conversations among people (UPNs, at
// least one): replies, an @mention, reactions, a link to a file and an
// inline image, so a client meets every part of a chatMessage.
func (t *Tenant) AddSampleTeam(name string, people []string, o SampleTeamOptions) (*Team, error) {
	if len(people) == 0 {
		return nil, fmt.Errorf("m365sim: a sample team needs people")
	}
	if o.Threads <= 0 {
		o.Threads = 3
	}
	if o.Replies <= 0 {
		o.Replies = 2
	}
	if o.Start.IsZero() {
		o.Start = t.now().Add(-7 * 24 * time.Hour)
	}
	tm, err := t.AddTeam(name, "The "+name+" team")
	if err != nil {
		return nil, err
	}
	for _, ch := range []struct{ name, kind string }{{"Planning", ChannelStandard}, {"Leads", ChannelPrivate}, {"With partners", ChannelShared}} {
		if _, err := t.AddChannel(tm.ID, ch.name, ch.kind); err != nil {
			return nil, err
		}
	}
	at := o.Start
	next := func() time.Time { at = at.Add(time.Hour); return at }
	who := func(i int) string { return people[i%len(people)] }
	for ci, c := range t.Channels(tm.ID) {
		for th := range o.Threads {
			po := PostOptions{Subject: fmt.Sprintf("%s topic %d", c.DisplayName, th+1),
				HTML: fmt.Sprintf("<p>%s: thread %d in %s &amp; what we decided.</p>", name, th+1, c.DisplayName), At: next()}
			if th == 0 {
				po.Mention = []string{who(ci + 1)}
				po.Files = []FileLink{{Name: "Plan " + c.DisplayName + ".docx", URL: "https://contoso.sharepoint.com/sites/" + name + "/Shared%20Documents/Plan.docx"}}
			}
			if th == 1 {
				po.Images = [][]byte{SamplePNG(color.RGBA{R: uint8(40 * ci), G: 120, B: 200, A: 255})}
			}
			m, err := t.PostMessage(tm.ID, c.ID, who(ci+th), po)
			if err != nil {
				return nil, err
			}
			for rp := range o.Replies {
				r, err := t.PostReply(tm.ID, c.ID, m.ID, who(ci+th+rp+1), PostOptions{HTML: fmt.Sprintf("<p>Reply %d to thread %d.</p>", rp+1, th+1), At: next()})
				if err != nil {
					return nil, err
				}
				if rp == 0 {
					if err := t.React(tm.ID, c.ID, m.ID, r.ID, who(ci), "like"); err != nil {
						return nil, err
					}
				}
			}
			if err := t.React(tm.ID, c.ID, m.ID, "", who(ci+th+1), "heart"); err != nil {
				return nil, err
			}
		}
	}
	return tm, nil
}

// SamplePNG is a small image of one colour, for inline images.
func SamplePNG(c color.Color) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 24, 16))
	for y := range 16 {
		for x := range 24 {
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}

// addDemoTeams gives the demo company two teams with channels and
// conversations among its people.
func addDemoTeams(t *Tenant, users int) error {
	var upns []string
	for ui := 0; ui < users; ui++ {
		upns = append(upns, demoPeople[ui].local+"@"+DemoDomain)
	}
	for _, name := range []string{"Sales", "Operations"} {
		if _, err := t.AddSampleTeam(name, upns, SampleTeamOptions{}); err != nil {
			return fmt.Errorf("m365sim: demo team %s: %w", name, err)
		}
	}
	return nil
}
