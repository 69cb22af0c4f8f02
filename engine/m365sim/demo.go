package m365sim

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The demo tenant: a small bakery with a few people, a couple of years of
// mail and a OneDrive each. It is what `lifeboat sim serve --demo` and
// `make run` show, and what benchmarks back up, so it aims to look like a
// real small business rather than a test fixture: nested folders, replies
// quoting the original, invoices with PDFs, newsletters with inline images,
// Unicode in names and subjects, and files from empty to tens of megabytes.
//
// Everything is a function of the seed: the same seed gives the same users,
// folder paths, message bytes, file names, bytes and times (only the IDs the
// tenant assigns differ). Large files are generated on demand, block by
// block, and never held in memory.

// Demo tenant identity.
const (
	DemoTenantName = "Contoso Bakery"
	DemoDomain     = "contosobakery.example"
)

// Defaults for DemoOptions, before Scale.
const (
	DefaultDemoUsers           = 3
	DefaultDemoMessagesPerUser = 1000
	DefaultDemoFilesPerUser    = 120
	DefaultDemoMaxFileSize     = 50 << 20
)

// DemoOptions sizes the demo tenant. The zero value is the full demo:
// three users, about 3,000 messages and 360 files.
type DemoOptions struct {
	// Users is the number of people, 1 to 6 (default 3: the owner, the
	// office manager and sales).
	Users int
	// MessagesPerUser defaults to 1000 × Scale.
	MessagesPerUser int
	// FilesPerUser defaults to 120 × Scale.
	FilesPerUser int
	// MaxFileSize caps every file's size; default 50 MiB × Scale.
	MaxFileSize int64
	// Scale shrinks (or grows) the defaults above: 0.05 gives 50 messages
	// and 6 files per user of at most 2.5 MiB. Zero means 1.
	Scale float64
	// Now is the tenant's clock for change timestamps (not for the data,
	// which is dated relative to DemoReferenceTime); nil means time.Now.
	Now func() time.Time
	// Company adds the whole company for organization mode
	// (democompany.go): with Users defaulting to all six staff, the shared
	// info@ mailbox, the tasting room and a former employee, nine accounts.
	Company bool
}

func (o DemoOptions) resolve() (DemoOptions, error) {
	if o.Scale < 0 || o.Users < 0 || o.MessagesPerUser < 0 || o.FilesPerUser < 0 || o.MaxFileSize < 0 {
		return o, errors.New("m365sim: demo options must not be negative")
	}
	if o.Users == 0 && o.Company {
		o.Users = len(demoPeople)
	}
	if o.Users == 0 {
		o.Users = DefaultDemoUsers
	}
	if o.Users > len(demoPeople) {
		return o, fmt.Errorf("m365sim: the demo tenant has at most %d users", len(demoPeople))
	}
	scale := o.Scale
	if scale == 0 {
		scale = 1
	}
	scaled := func(n int64) int64 { return max(1, int64(float64(n)*scale+0.5)) }
	if o.MessagesPerUser == 0 {
		o.MessagesPerUser = int(scaled(DefaultDemoMessagesPerUser))
	}
	if o.FilesPerUser == 0 {
		o.FilesPerUser = int(scaled(DefaultDemoFilesPerUser))
	}
	if o.MaxFileSize == 0 {
		o.MaxFileSize = scaled(DefaultDemoMaxFileSize)
	}
	return o, nil
}

// DemoReferenceTime is "now" in the demo data of a seed: messages and files
// are dated over the two years before it. It falls between February and
// June 2026.
func DemoReferenceTime(seed int64) time.Time {
	base := time.Date(2026, time.February, 1, 0, 0, 0, 0, time.UTC)
	return base.Add(time.Duration(demoKey(uint64(seed), 0xda7e)%(120*24*3600)) * time.Second)
}

// GenerateDemo builds the demo tenant for a seed.
func GenerateDemo(seed int64, opts DemoOptions) (*Tenant, error) {
	o, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	g := newDemoGen(seed, o)
	t := NewTenant(DemoTenantName, DemoDomain, o.Now)
	for ui := 0; ui < o.Users; ui++ {
		p := demoPeople[ui]
		u, err := t.AddUser(p.local+"@"+DemoDomain, p.name)
		if err != nil {
			return nil, err
		}
		t.mu.Lock()
		u.JobTitle = p.title
		t.mu.Unlock()
	}
	for ui := 0; ui < o.Users; ui++ {
		upn := demoPeople[ui].local + "@" + DemoDomain
		for _, f := range g.skeleton(ui) {
			if _, err := t.EnsureFolderPath(upn, f); err != nil {
				return nil, fmt.Errorf("m365sim: demo folder %s: %w", f, err)
			}
		}
		msgs := g.messages(ui)
		for i := range msgs {
			m := &msgs[i]
			f, err := t.EnsureFolderPath(upn, m.folder)
			if err == nil {
				_, err = t.AddMessage(upn, f.ID, m.mime, m.opts)
			}
			if err != nil {
				return nil, fmt.Errorf("m365sim: demo message %d of %s in %s: %w", i, upn, m.folder, err)
			}
			m.mime = nil // the tenant keeps its own copy
		}
		if err := t.addDemoPIM(g, ui); err != nil {
			return nil, err
		}
		files := g.files(ui)
		// Folders get the time of the oldest file below them, so that
		// their fileSystemInfo is part of the deterministic data too.
		for _, d := range demoFolderTimes(files) {
			if err := t.ensureDriveFolder(upn, d.path, d.mod); err != nil {
				return nil, fmt.Errorf("m365sim: demo folder %s of %s: %w", d.path, upn, err)
			}
		}
		for _, f := range files {
			var err error
			if f.content == nil {
				err = t.ensureDriveFolder(upn, f.path, f.mod)
			} else {
				_, err = t.PutFile(upn, f.path, f.content, f.mod)
			}
			if err != nil {
				return nil, fmt.Errorf("m365sim: demo file %s of %s: %w", f.path, upn, err)
			}
		}
	}
	if err := t.addDemoSites(g); err != nil { // demosites.go
		return nil, err
	}
	if o.Company {
		if err := addDemoCompany(t, seed, o); err != nil {
			return nil, fmt.Errorf("m365sim: demo company: %w", err)
		}
		// The company's teams (teamsseed.go): reachable in organization mode.
		if err := addDemoTeams(t, o.Users); err != nil {
			return nil, err
		}
	}
	return t, nil
}

type demoGen struct {
	seed       uint64
	opts       DemoOptions
	ref, start time.Time
	years      []int
}

func newDemoGen(seed int64, o DemoOptions) *demoGen {
	g := &demoGen{seed: uint64(seed), opts: o, ref: DemoReferenceTime(seed)}
	g.start = g.ref.AddDate(-2, 0, 0)
	for y := g.start.Year(); y <= g.ref.Year(); y++ {
		g.years = append(g.years, y)
	}
	return g
}

// Stream identifiers for demoKey, so that users, conversations, files and
// contents draw from independent streams.
const (
	demoStreamConversation = iota + 1
	demoStreamFilePlan
	demoStreamFileContent
	demoStreamLogo
)

// skeleton lists the folders every mailbox has, so that the tree exists
// even in small tenants.
func (g *demoGen) skeleton(ui int) []string {
	out := []string{"Inbox/Suppliers", "Inbox/Customers", "Inbox/Orders", "Inbox/Newsletters"}
	for _, y := range g.years[1:] {
		out = append(out, "Inbox/Invoices/"+strconv.Itoa(y))
	}
	for _, y := range g.years[:len(g.years)-1] {
		out = append(out, "Archive/"+strconv.Itoa(y))
	}
	return out
}

// ---- mail ----

type demoMsg struct {
	when   time.Time // delivery time, for ordering
	folder string
	mime   []byte
	opts   MessageOptions
}

type demoParty struct {
	name, addr string
	zone       int // 0 = UK time, 1 = central European time
	org        string
	internal   bool
}

func (p demoParty) first() string {
	f, _, _ := strings.Cut(p.name, " ")
	return f
}

func (p demoParty) header() string {
	return (&mail.Address{Name: p.name, Address: p.addr}).String()
}

func personParty(p demoPerson) demoParty {
	return demoParty{name: p.name, addr: p.local + "@" + DemoDomain, zone: 1, org: DemoTenantName, internal: true}
}

type demoMail struct {
	from        demoParty
	to, cc      []demoParty
	subject     string
	when        time.Time // when sent
	msgID       string
	inReplyTo   string
	refs        []string
	threadIndex []byte
	text        string
	html        int // 0 text only, 1 text and HTML, 2 newsletter HTML with an inline logo
	logo        []byte
	atts        []demoAtt
	incoming    bool
	importance  string
	folder      string
	opts        MessageOptions
}

type demoAtt struct {
	name, ctype string
	data        []byte
	message     bool // message/rfc822: data is a whole message
}

// Message kinds and their weights per role (owner, office, sales, staff).
const (
	kindInvoice = iota
	kindSupplier
	kindCustomer
	kindCatering
	kindInternal
	kindNewsletter
	kindNotification
	kindSpam
	kindDraft
)

var demoKindWeights = [4][]int{
	demoOwner:  {10, 14, 12, 6, 18, 16, 8, 10, 3},
	demoOffice: {26, 18, 4, 6, 14, 12, 10, 8, 2},
	demoSales:  {3, 4, 30, 20, 14, 10, 6, 10, 3},
	demoStaff:  {2, 10, 6, 4, 36, 12, 8, 18, 4},
}

// messages returns a user's messages in delivery order.
func (g *demoGen) messages(ui int) []demoMsg {
	n := g.opts.MessagesPerUser
	out := make([]demoMsg, 0, n)
	// A few messages carry attachments of megabytes; place them evenly so
	// their number (and the memory they take) follows the message count.
	const bigEvery = 400
	for conv := 0; len(out) < n; conv++ {
		r := newDemoRand(demoKey(g.seed, demoStreamConversation, uint64(ui), uint64(conv)))
		c := &demoConv{g: g, r: r, ui: ui, me: personParty(demoPeople[ui]), big: conv%bigEvery == bigEvery/2}
		c.vars = c.makeVars()
		for _, m := range c.build() {
			if len(out) < n {
				out = append(out, m)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].when.Before(out[j].when) })
	return out
}

// demoConv builds one conversation: a message and perhaps replies.
type demoConv struct {
	g    *demoGen
	r    *demoRand
	ui   int
	me   demoParty
	big  bool
	vars map[string]string
	at   time.Time
	out  []demoMsg
	prev *demoMail
}

func (c *demoConv) makeVars() map[string]string {
	r := c.r
	g := c.g
	span := g.ref.Sub(g.start)
	// Recent months are busier: the later of two uniform draws.
	off := max(r.int64n(int64(span/time.Second)), r.int64n(int64(span/time.Second)))
	day := g.start.Add(time.Duration(off) * time.Second)
	local := day.In(demoZone(day, 1))
	c.at = time.Date(local.Year(), local.Month(), local.Day(), r.between(6, 18), r.intn(60), r.intn(60), 0, local.Location()).UTC()
	if c.at.After(g.ref) {
		c.at = g.ref.Add(-time.Duration(r.between(60, 7200)) * time.Second)
	}
	sup := demoPick(r, demoSuppliers)
	cust := demoPick(r, demoCustomers)
	ev := c.at.AddDate(0, 0, r.between(2, 20))
	cents := r.between(1500, 450000)
	// The correspondent among colleagues, and a third person to mention.
	corr := (c.ui + 1 + r.intn(len(demoPeople)-1)) % len(demoPeople)
	third := (corr + 1 + r.intn(len(demoPeople)-1)) % len(demoPeople)
	for third == c.ui || third == corr {
		third = (third + 1) % len(demoPeople)
	}
	company := cust.company
	if company == "" {
		company = demoPick(r, []string{"Fabrikam", "Northwind Traders", "Tailspin Toys", "Litware"})
	}
	_, week := c.at.ISOWeek()
	trend := demoPick(r, []string{"up", "down", "flat", "sharply up", "slightly down"})
	return map[string]string{
		"me":        c.me.first(),
		"supplier":  sup.name,
		"supshort":  sup.short,
		"product":   demoPick(r, sup.products),
		"product2":  demoPick(r, sup.products),
		"bake":      demoPick(r, demoBakes),
		"qty":       strconv.Itoa(r.between(2, 60)),
		"qty2":      strconv.Itoa(r.between(2, 40)),
		"pct":       strconv.Itoa(r.between(3, 18)),
		"amount":    demoEuro(cents),
		"invno":     fmt.Sprintf("%d-%04d", c.at.Year(), r.between(1, 9999)),
		"orderno":   fmt.Sprintf("PO-%05d", r.between(1, 99999)),
		"due":       c.at.AddDate(0, 0, 30).Format("2 January 2006"),
		"day":       demoDays[r.intn(5)],
		"date":      ev.Format("Monday 2 January"),
		"month":     demoMonths[c.at.Month()-1],
		"year":      strconv.Itoa(c.at.Year()),
		"week":      strconv.Itoa(week),
		"town":      demoPick(r, demoTowns),
		"guests":    strconv.Itoa(r.between(8, 180)),
		"company":   company,
		"colleague": demoPeople[third].name,
		"corr":      strconv.Itoa(corr),
		"third":     strconv.Itoa(third),
		"trend":     trend,
		"custname":  cust.name,
		"custorg":   cust.company,
		"custlocal": cust.local,
		"custdom":   cust.domain,
	}
}

// demoBusinessHours moves a time outside 7:00–21:00 bakery time to the next
// morning.
func demoBusinessHours(r *demoRand, t time.Time) time.Time {
	loc := demoZone(t, 1)
	l := t.In(loc)
	if h := l.Hour(); h >= 7 && h < 21 {
		return t
	}
	if l.Hour() >= 21 {
		l = l.AddDate(0, 0, 1)
	}
	return time.Date(l.Year(), l.Month(), l.Day(), 7+r.intn(3), r.intn(60), r.intn(60), 0, loc).UTC()
}

func demoEuro(cents int) string {
	whole := strconv.Itoa(cents / 100)
	var b strings.Builder
	for i, ch := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(ch)
	}
	return fmt.Sprintf("€%s.%02d", b.String(), cents%100)
}

// fill replaces {name} placeholders.
func (c *demoConv) fill(s string, extra ...string) string {
	if !strings.Contains(s, "{") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			b.WriteString(s)
			return b.String()
		}
		key := s[i+1 : i+j]
		b.WriteString(s[:i])
		v, ok := c.vars[key]
		for k := 0; k+1 < len(extra); k += 2 {
			if extra[k] == key {
				v, ok = extra[k+1], true
			}
		}
		if ok {
			b.WriteString(v)
		} else {
			b.WriteString(s[i : i+j+1])
		}
		s = s[i+j+1:]
	}
}

func demoZone(t time.Time, zone int) *time.Location {
	off := zone * 3600
	if m := t.Month(); m >= time.April && m <= time.October {
		off += 3600 // summer time, near enough
	}
	return time.FixedZone("", off)
}

func (c *demoConv) build() []demoMsg {
	r := c.r
	kind := demoPickWeighted(r, demoKindWeights[demoPeople[c.ui].role])
	if c.big {
		kind = demoPick(r, []int{kindInvoice, kindCustomer})
	}
	sup := c.supplier()
	cust := demoParty{name: c.vars["custname"], addr: c.vars["custlocal"] + "@" + c.vars["custdom"], zone: 1, org: c.vars["custorg"]}
	corr, _ := strconv.Atoi(c.vars["corr"])
	third, _ := strconv.Atoi(c.vars["third"])
	colleague := personParty(demoPeople[corr])
	switch kind {
	case kindInvoice:
		m := c.mail(sup, c.me, demoPick(r, demoInvoiceSubjects), demoPick(r, demoInvoiceBodies))
		m.atts = append(m.atts, c.invoicePDF(sup))
		m.folder = "Inbox/Invoices/" + strconv.Itoa(m.when.In(demoZone(m.when, 1)).Year())
		m.opts.Flagged = r.chance(0.15)
		c.add(m)
	case kindSupplier:
		if r.chance(0.5) {
			tp := demoPick(r, demoSupplierOrders)
			m := c.mail(c.me, sup, tp.subject, tp.body)
			if r.chance(0.2) {
				m.atts = append(m.atts, c.orderCSV("Order week "+c.vars["week"]+".csv"))
			}
			c.add(m)
			rep := c.reply(sup, demoSupplierConfirm)
			rep.folder = "Inbox/Suppliers/" + c.vars["supshort"]
			if r.chance(0.2) {
				rep.atts = append(rep.atts, c.deliveryNote(sup))
			}
			c.add(rep)
		} else {
			tp := demoPick(r, demoSupplierNotices)
			m := c.mail(sup, c.me, tp.subject, tp.body)
			m.folder = "Inbox/Suppliers/" + c.vars["supshort"]
			if strings.Contains(tp.body, "attached") {
				m.atts = append(m.atts, c.deliveryNote(sup))
			}
			c.add(m)
			if r.chance(0.3) {
				c.add(c.reply(c.me, "Hi {first},\n\nThanks for letting us know. That's fine.\n\n"))
			}
		}
	case kindCustomer:
		tp := demoPick(r, demoCustomerQuestions)
		m := c.mail(cust, c.me, tp.subject, tp.body)
		m.folder = "Inbox/Customers"
		if r.chance(0.1) || c.big || strings.Contains(tp.body, "attached a picture") {
			m.atts = append(m.atts, c.photo())
		}
		if r.chance(0.05) {
			m.importance = "high"
		}
		m.opts.Flagged = r.chance(0.08)
		c.add(m)
		if r.chance(0.7) {
			body := demoPick(r, demoReplyBodies)
			rep := c.reply(c.me, body)
			if strings.Contains(body, "attached") {
				rep.atts = append(rep.atts, c.priceList())
			}
			c.add(rep)
			if r.chance(0.3) {
				fol := c.reply(cust, "Hi {first},\n\nPerfect, thank you! Please go ahead.\n\n")
				fol.folder = "Inbox/Customers"
				c.add(fol)
			}
		}
	case kindCatering:
		body := demoPick(r, demoCateringBodies)
		m := c.mail(cust, c.me, demoPick(r, demoCateringSubjects), body)
		m.folder = "Inbox/Orders"
		if strings.Contains(body, "attached") {
			m.atts = append(m.atts, c.orderCSV("Order "+c.vars["orderno"]+".csv"))
		}
		c.add(m)
		if r.chance(0.6) {
			c.add(c.reply(c.me, "Hi {first},\n\nThank you for your order, all noted. We will deliver on {day} at 8:30.\n\n"))
		}
	case kindInternal:
		from, to := colleague, c.me
		if r.chance(0.5) {
			from, to = c.me, colleague
		}
		tp := demoPick(r, demoInternalNotes)
		subj := tp.subject
		m := c.mail(from, to, subj, tp.body)
		if r.chance(0.3) && !strings.Contains(tp.body, "{colleague}") {
			m.cc = []demoParty{personParty(demoPeople[third])}
		}
		switch {
		case strings.HasPrefix(subj, "Fwd:"):
			m.atts = append(m.atts, c.forwarded(sup))
		case strings.HasPrefix(subj, "Rota"):
			m.atts = append(m.atts, c.officeDoc("Rota week "+c.vars["week"]+".xlsx"))
		case strings.HasPrefix(subj, "Notes"):
			if r.chance(0.4) {
				m.atts = append(m.atts, c.invite())
			}
		case r.chance(0.15):
			m.atts = append(m.atts, c.officeDoc(c.fill("{bake} ideas.docx")))
		}
		c.add(m)
		if r.chance(0.35) {
			c.add(c.reply(to, "{first},\n\nThanks, will do.\n\n"))
		}
	case kindNewsletter:
		nli := r.intn(len(demoNewsletters))
		nl := demoNewsletters[nli]
		p := demoParty{name: nl.name, addr: nl.local + "@" + nl.domain, zone: 0, org: nl.name}
		m := c.mail(p, c.me, c.fill(demoPick(r, demoNewsletterSubjects), "title", nl.title), "")
		var paras []string
		for i := r.between(2, 4); i > 0; i-- {
			paras = append(paras, c.fill(demoPick(r, demoNewsletterParas)))
		}
		m.text = strings.Join(paras, "\n\n") + "\n\nYou are receiving this email because you subscribed at " + nl.domain + ".\nUnsubscribe: https://" + nl.domain + "/unsubscribe"
		m.html = 2
		m.logo = demoPNG(newDemoRand(demoKey(c.g.seed, demoStreamLogo, uint64(nli))), 120, 36)
		m.folder = "Inbox/Newsletters"
		if r.chance(0.25) {
			m.folder = "Deleted Items"
		}
		m.opts.IsRead = r.chance(0.6)
		c.add(m)
	case kindNotification:
		p := demoParty{name: "Contoso Books", addr: "notifications@contosobooks.example", zone: 0}
		m := c.mail(p, c.me, demoPick(r, demoNotificationSubjects), "Hello {me},\n\nThis is an automated message about your account. {amount} was processed on {date}.\n\nPlease do not reply to this email.")
		m.html = 1
		if r.chance(0.15) {
			m.folder = "Deleted Items"
		}
		c.add(m)
	case kindSpam:
		sp := demoPick(r, demoSpammers)
		p := demoParty{name: sp.name, addr: sp.addr, zone: r.intn(2)}
		m := c.mail(p, c.me, demoPick(r, demoSpamSubjects), demoPick(r, demoSpamBodies))
		m.html = 1
		m.folder = "Junk Email"
		if strings.HasPrefix(m.subject, "URGENT") {
			m.importance = "high"
		}
		if r.chance(0.15) {
			m.atts = append(m.atts, demoAtt{name: "invoice_" + c.vars["qty"] + ".pdf.zip", ctype: "application/zip", data: demoGenBytes(r.next(), r.between(8<<10, 40<<10), false, demoSigZIP)})
		}
		m.opts.IsRead = r.chance(0.2)
		c.add(m)
	case kindDraft:
		to := cust
		if r.chance(0.4) {
			to = sup
		}
		m := c.mail(c.me, to, demoPick(r, []string{"Quote for {company}", "Draft: new price list", "Re: " + c.fill(demoPick(r, demoCustomerQuestions).subject), "Complaint about last delivery"}), "Hi {first},\n\n"+demoPick(r, []string{"Thanks for your patience. I'm still checking with the kitchen and will", "Following our call, here is", "I wanted to let you know that"}))
		m.folder = "Drafts"
		m.opts.IsDraft = true
		c.add(m)
	}
	return c.out
}

func (c *demoConv) supplier() demoParty {
	for _, s := range demoSuppliers {
		if s.name == c.vars["supplier"] {
			return demoParty{name: s.contact, addr: s.local + "@" + s.domain, zone: s.zone, org: s.name}
		}
	}
	return demoParty{name: "Katrin Müller", addr: "k.mueller@mueller-muehle.example", zone: 1, org: "Müller Mühle GmbH"}
}

// mail starts a message from one party to another at the conversation's
// current time.
func (c *demoConv) mail(from, to demoParty, subject, body string) *demoMail {
	r := c.r
	m := &demoMail{from: from, to: []demoParty{to}, when: c.at, incoming: !from.internal || from.addr != c.me.addr}
	m.subject = c.fill(subject)
	m.text = c.fill(body, "first", to.first())
	if body != "" && !strings.HasSuffix(m.text, "\n\n") {
		m.text += "\n\n"
	}
	if r.chance(0.55) {
		m.html = 1
	}
	m.msgID = c.messageID(from)
	m.threadIndex = make([]byte, 22)
	for i := range m.threadIndex {
		m.threadIndex[i] = byte(r.next())
	}
	return m
}

// reply answers the previous message of the conversation.
func (c *demoConv) reply(from demoParty, body string) *demoMail {
	p := c.prev
	to := p.from
	if to.addr == from.addr && len(p.to) > 0 {
		to = p.to[0]
	}
	c.at = demoBusinessHours(c.r, c.at.Add(time.Duration(c.r.between(5*60, 2*24*3600))*time.Second))
	subj := p.subject
	if !strings.HasPrefix(strings.ToLower(subj), "re:") {
		subj = "Re: " + subj
	}
	m := c.mail(from, to, "", body)
	m.subject = subj
	m.inReplyTo = p.msgID
	m.refs = append(append([]string(nil), p.refs...), p.msgID)
	m.threadIndex = append(append([]byte(nil), p.threadIndex...), byte(c.r.next()), byte(c.r.next()), byte(c.r.next()), byte(c.r.next()), byte(c.r.next()))
	m.html = p.html
	if m.html == 2 {
		m.html = 1
	}
	sent := p.when.In(demoZone(p.when, p.from.zone))
	m.text += c.fill(demoPick(c.r, demoSignOffs)) + "\n" + from.name + "\n\n" +
		"________________________________\n" +
		"From: " + p.from.name + " <" + p.from.addr + ">\n" +
		"Sent: " + sent.Format("Monday, 2 January 2006 15:04") + "\n" +
		"To: " + p.to[0].name + " <" + p.to[0].addr + ">\n" +
		"Subject: " + p.subject + "\n\n" + p.text
	return m
}

func (c *demoConv) messageID(from demoParty) string {
	r := c.r
	if from.internal {
		var b [20]byte
		for i := range b {
			b[i] = byte(r.next())
		}
		host := fmt.Sprintf("AM%dPR%02dMB%04d", r.between(0, 9), r.between(1, 10), r.intn(10000))
		return "<" + strings.ToUpper(host+hex.EncodeToString(b[:])) + "@" + host + ".EURPRD10.PROD.OUTLOOK.COM>"
	}
	_, dom, _ := strings.Cut(from.addr, "@")
	return fmt.Sprintf("<%s.%016x@mail.%s>", c.at.Format("20060102150405"), r.next(), dom)
}

// add finishes a message: signature, folder, flags, and renders it.
func (c *demoConv) add(m *demoMail) {
	r := c.r
	if m.when.After(c.g.ref) {
		return // not happened yet
	}
	if m.html < 2 && !strings.Contains(m.text, "________________________________") && m.text != "" && !m.opts.IsDraft {
		if t := strings.TrimRight(m.text, "\n"); !strings.HasSuffix(t, ",") && !strings.HasSuffix(t, "!") {
			m.text += demoPick(r, demoSignOffs) + "\n"
		} else {
			m.text = t + "\n"
		}
		m.text += m.from.name + "\n"
		if m.from.internal {
			m.text += demoPick(r, []string{"", "Contoso Bakery | Bakkerstraat 12, Haarlem | +31 23 555 0100\n"})
		} else if m.from.org != "" && m.from.org != m.from.name {
			m.text += m.from.org + "\n"
		}
	}
	if m.folder == "" {
		if m.incoming {
			m.folder = "Inbox"
		} else {
			m.folder = "Sent Items"
		}
	}
	if m.opts.IsDraft {
		m.incoming = false
	}
	age := c.g.ref.Sub(m.when)
	switch {
	case !m.incoming:
		m.opts.IsRead = true
	case m.folder == "Junk Email" || strings.HasSuffix(m.folder, "Newsletters"):
		// set by the caller
	case age > 7*24*time.Hour:
		m.opts.IsRead = r.chance(0.96)
	default:
		m.opts.IsRead = r.chance(0.5)
	}
	if r.chance(0.1) {
		m.opts.Categories = []string{demoPick(r, demoCategories)}
		if r.chance(0.2) {
			m.opts.Categories = append(m.opts.Categories, demoPick(r, demoCategories[:6]))
			if m.opts.Categories[0] == m.opts.Categories[1] {
				m.opts.Categories = m.opts.Categories[:1]
			}
		}
	}
	if !m.opts.Flagged && m.incoming && r.chance(0.02) {
		m.opts.Flagged = true
	}
	// Old mail that was dealt with goes to the archive.
	if m.incoming && strings.HasPrefix(m.folder, "Inbox") && !strings.HasPrefix(m.folder, "Inbox/Invoices") &&
		age > 400*24*time.Hour && r.chance(0.6) {
		m.folder = "Archive/" + strconv.Itoa(m.when.Year())
	}
	delivered := m.when
	if m.incoming {
		delivered = m.when.Add(time.Duration(r.between(2, 90)) * time.Second)
	}
	c.out = append(c.out, demoMsg{when: delivered, folder: m.folder, mime: c.render(m, delivered), opts: m.opts})
	c.prev = m
	// Replies follow the message they answer.
	c.at = m.when
}

// ---- attachments ----

func (c *demoConv) invoicePDF(sup demoParty) demoAtt {
	r := c.r
	lines := []string{sup.org, "Accounts department", "", "INVOICE " + c.vars["invno"], "Date: " + c.at.Format("2 January 2006"),
		"Bill to: Contoso Bakery, Bakkerstraat 12, 2011 Haarlem", "Your order: " + c.vars["orderno"], ""}
	for i := r.between(2, 8); i > 0; i-- {
		lines = append(lines, fmt.Sprintf("%3d x %-40s %s", r.between(1, 50), demoPick(r, demoSuppliers[0].products), demoEuro(r.between(500, 50000))))
	}
	lines = append(lines, "", "Total due: "+c.vars["amount"], "Payment due by "+c.vars["due"], "IBAN NL91 ABNA 0417 1643 00")
	var pad []byte
	switch {
	case c.big:
		pad = demoGenBytes(r.next(), r.between(1<<20, 5<<19), false, "")
	case r.chance(0.06): // a scan
		pad = demoGenBytes(r.next(), r.between(40<<10, 300<<10), false, "")
	}
	name := "Invoice " + c.vars["invno"] + ".pdf"
	if strings.Contains(sup.org, "Müller") {
		name = "Rechnung " + c.vars["invno"] + " – März.pdf"
		if m := c.at.Month(); m != time.March {
			name = "Rechnung " + c.vars["invno"] + ".pdf"
		}
	}
	return demoAtt{name: name, ctype: "application/pdf", data: demoMakePDF(lines, pad)}
}

func (c *demoConv) deliveryNote(sup demoParty) demoAtt {
	lines := []string{sup.org, "", "DELIVERY NOTE " + c.vars["orderno"], "Delivery: " + c.vars["day"],
		c.vars["qty"] + " x " + c.vars["product"], c.vars["qty2"] + " x " + c.vars["product2"], "", "Received by: ____________"}
	return demoAtt{name: "Delivery note " + c.vars["orderno"] + ".pdf", ctype: "application/pdf", data: demoMakePDF(lines, nil)}
}

func (c *demoConv) priceList() demoAtt {
	lines := []string{"Contoso Bakery – price list " + c.vars["year"], ""}
	for _, b := range demoBakes {
		lines = append(lines, fmt.Sprintf("%-30s %s", b, demoEuro(c.r.between(150, 4500))))
	}
	return demoAtt{name: "Price list " + c.vars["year"] + ".pdf", ctype: "application/pdf", data: demoMakePDF(lines, nil)}
}

func (c *demoConv) orderCSV(name string) demoAtt {
	r := c.r
	var b strings.Builder
	b.WriteString("Item,Quantity,Unit price,Total\r\n")
	for i := r.between(3, 40); i > 0; i-- {
		q, p := r.between(1, 80), r.between(80, 3000)
		fmt.Fprintf(&b, "%s,%d,%d.%02d,%d.%02d\r\n", demoPick(r, demoBakes), q, p/100, p%100, q*p/100, q*p%100)
	}
	return demoAtt{name: name, ctype: "text/csv", data: []byte(b.String())}
}

func (c *demoConv) photo() demoAtt {
	r := c.r
	switch {
	case c.big:
		return demoAtt{name: fmt.Sprintf("IMG_%04d.jpg", r.intn(10000)), ctype: "image/jpeg", data: demoGenBytes(r.next(), r.between(1<<20, 5<<19), false, demoSigJPEG)}
	case r.chance(0.5):
		return demoAtt{name: demoPick(r, []string{"cake idea.png", "Tortenentwurf.png", "design.png", "gâteau.png"}), ctype: "image/png", data: demoPNG(r, r.between(40, 160), r.between(40, 120))}
	default:
		return demoAtt{name: fmt.Sprintf("IMG_%04d.jpg", r.intn(10000)), ctype: "image/jpeg", data: demoGenBytes(r.next(), r.between(30<<10, 250<<10), false, demoSigJPEG)}
	}
}

func (c *demoConv) officeDoc(name string) demoAtt {
	ctype := "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	if strings.HasSuffix(name, ".xlsx") {
		ctype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	}
	return demoAtt{name: name, ctype: ctype, data: demoGenBytes(c.r.next(), c.r.between(9<<10, 60<<10), true, demoSigZIP)}
}

func (c *demoConv) invite() demoAtt {
	start := c.at.AddDate(0, 0, 7)
	ics := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Contoso Bakery//Demo//EN\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\n" +
		"UID:" + strings.Trim(c.messageID(c.me), "<>") + "\r\n" +
		"DTSTAMP:" + c.at.Format("20060102T150405Z") + "\r\n" +
		"DTSTART:" + start.Format("20060102T150405Z") + "\r\n" +
		"DTEND:" + start.Add(time.Hour).Format("20060102T150405Z") + "\r\n" +
		"SUMMARY:Team meeting\r\nLOCATION:Back office\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	return demoAtt{name: "Team meeting.ics", ctype: "text/calendar", data: []byte(ics)}
}

// forwarded attaches a supplier's invoice message whole (message/rfc822).
func (c *demoConv) forwarded(sup demoParty) demoAtt {
	inner := &demoConv{g: c.g, r: newDemoRand(c.r.next()), ui: c.ui, me: c.me, vars: c.vars, at: c.at.Add(-time.Duration(c.r.between(3600, 5*24*3600)) * time.Second)}
	m := inner.mail(sup, c.me, demoPick(c.r, demoInvoiceSubjects), demoPick(c.r, demoInvoiceBodies))
	m.atts = append(m.atts, inner.invoicePDF(sup))
	m.text += "Kind regards,\n" + sup.name + "\n"
	return demoAtt{name: c.fill("Invoice {invno}.eml"), ctype: "message/rfc822", data: inner.render(m, m.when), message: true}
}

// ---- rendering ----

const demoDateLayout = "Mon, 2 Jan 2006 15:04:05 -0700"

// render writes a message as Exchange would store it: CRLF line ends,
// encoded-words for non-ASCII headers, quoted-printable text, base64
// attachments.
func (c *demoConv) render(m *demoMail, delivered time.Time) []byte {
	r := c.r
	var b bytes.Buffer
	h := func(name, value string) { demoWriteHeader(&b, name, value) }
	if m.incoming {
		mbx := fmt.Sprintf("DB%dPR%02dMB%04d.EURPRD10.PROD.OUTLOOK.COM", r.between(3, 9), r.between(1, 10), r.intn(10000))
		edge := fmt.Sprintf("AM%dPEPF%08X.EURPRD10.PROD.OUTLOOK.COM", r.between(1, 9), uint32(r.next()))
		_, dom, _ := strings.Cut(m.from.addr, "@")
		if m.from.internal {
			h("Received", fmt.Sprintf("from %s (2603:10a6:20b:%x::%x) by %s with HTTPS; %s", edge, r.intn(0x1000), r.intn(0x100), mbx, delivered.Format(demoDateLayout)))
		} else {
			h("Received", fmt.Sprintf("from %s (2603:10a6:20b:%x::%x) by %s with Microsoft SMTP Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.%d.%d; %s",
				edge, r.intn(0x1000), r.intn(0x100), mbx, r.between(7000, 8999), r.between(1, 40), delivered.Format(demoDateLayout)))
			h("Received", fmt.Sprintf("from mail.%s (198.51.100.%d) by %s (10.167.%d.%d) with Microsoft SMTP Server (version=TLS1_3, cipher=TLS_AES_256_GCM_SHA384) id 15.20.%d.%d via Frontend Transport; %s",
				dom, r.between(1, 254), edge, r.intn(256), r.intn(256), r.between(7000, 8999), r.between(1, 40), m.when.Add(time.Second).Format(demoDateLayout)))
		}
	}
	h("From", m.from.header())
	h("To", demoPartyList(m.to))
	if len(m.cc) > 0 {
		h("Cc", demoPartyList(m.cc))
	}
	h("Subject", mime.QEncoding.Encode("utf-8", m.subject))
	topic := m.subject
	for strings.HasPrefix(strings.ToLower(topic), "re: ") || strings.HasPrefix(strings.ToLower(topic), "fwd: ") {
		_, topic, _ = strings.Cut(topic, " ")
	}
	h("Thread-Topic", mime.QEncoding.Encode("utf-8", topic))
	h("Thread-Index", base64.StdEncoding.EncodeToString(m.threadIndex))
	h("Date", m.when.In(demoZone(m.when, m.from.zone)).Format(demoDateLayout))
	h("Message-ID", m.msgID)
	if m.inReplyTo != "" {
		h("In-Reply-To", m.inReplyTo)
		h("References", strings.Join(m.refs, " "))
	}
	h("Accept-Language", "en-US")
	h("Content-Language", "en-US")
	if len(m.atts) > 0 {
		h("X-MS-Has-Attach", "yes")
	} else {
		h("X-MS-Has-Attach", "")
	}
	if m.importance == "high" {
		h("Importance", "high")
		h("X-Priority", "1")
	}
	if m.opts.IsDraft {
		h("X-Unsent", "1")
	}
	h("MIME-Version", "1.0")

	boundary := func() string { return fmt.Sprintf("_%03d_%016X%08X_", r.intn(8)*2, r.next(), uint32(r.next())) }
	body := demoTextPart("text/plain", m.text)
	switch m.html {
	case 1:
		body = demoMultipart("multipart/alternative", boundary(), "", body, demoTextPart("text/html", demoSimpleHTML(m.text)))
	case 2:
		cid := fmt.Sprintf("logo@01%014X", r.next()>>8)
		related := demoMultipart("multipart/related", boundary(), `; type="text/html"`,
			demoTextPart("text/html", demoNewsletterHTML(m.from.name, m.text, cid)),
			demoAttachmentPart(demoAtt{name: "logo.png", ctype: "image/png", data: m.logo}, cid, m.when))
		body = demoMultipart("multipart/alternative", boundary(), "", body, related)
	}
	if len(m.atts) > 0 {
		parts := []demoPart{body}
		for _, a := range m.atts {
			parts = append(parts, demoAttachmentPart(a, "", m.when))
		}
		body = demoMultipart("multipart/mixed", boundary(), "", parts...)
	}
	body.writeTo(&b)
	return b.Bytes()
}

func demoPartyList(ps []demoParty) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.header()
	}
	return strings.Join(s, ", ")
}

// demoWriteHeader writes "Name: value" folded at spaces near 78 columns.
// Unfolding (RFC 5322 section 2.2.3) gives back the value exactly, since it
// only folds where there is a single space.
func demoWriteHeader(b *bytes.Buffer, name, value string) {
	line := name + ":"
	if value != "" {
		line += " " + value
	}
	for len(line) > 78 {
		cut := -1
		for i := 78; i > len(name)+2; i-- {
			if line[i] == ' ' && line[i-1] != ' ' && (i+1 >= len(line) || line[i+1] != ' ') {
				cut = i
				break
			}
		}
		if cut < 0 {
			break // no space to fold at; lines up to 998 characters are allowed
		}
		b.WriteString(line[:cut])
		b.WriteString("\r\n")
		line = line[cut:]
	}
	b.WriteString(line)
	b.WriteString("\r\n")
}

type demoPart struct {
	header []string
	body   []byte
}

func (p demoPart) writeTo(b *bytes.Buffer) {
	for _, h := range p.header {
		b.WriteString(h)
		b.WriteString("\r\n")
	}
	b.WriteString("\r\n")
	b.Write(p.body)
}

func demoMultipart(ctype, boundary, params string, parts ...demoPart) demoPart {
	var body bytes.Buffer
	for _, p := range parts {
		body.WriteString("--" + boundary + "\r\n")
		p.writeTo(&body)
		body.WriteString("\r\n")
	}
	body.WriteString("--" + boundary + "--\r\n")
	return demoPart{header: []string{fmt.Sprintf("Content-Type: %s;\r\n\tboundary=\"%s\"%s", ctype, boundary, params)}, body: body.Bytes()}
}

func demoTextPart(ctype, text string) demoPart {
	var body bytes.Buffer
	w := quotedprintable.NewWriter(&body)
	_, _ = w.Write([]byte(strings.ReplaceAll(text, "\n", "\r\n")))
	_ = w.Close()
	if !bytes.HasSuffix(body.Bytes(), []byte("\r\n")) {
		body.WriteString("\r\n")
	}
	return demoPart{header: []string{
		"Content-Type: " + ctype + `; charset="utf-8"`,
		"Content-Transfer-Encoding: quoted-printable",
	}, body: body.Bytes()}
}

func demoAttachmentPart(a demoAtt, cid string, when time.Time) demoPart {
	disp := "attachment"
	if cid != "" {
		disp = "inline"
	}
	date := when.UTC().Format("Mon, 02 Jan 2006 15:04:05 GMT")
	p := demoPart{header: []string{
		"Content-Type: " + mime.FormatMediaType(a.ctype, map[string]string{"name": a.name}),
		"Content-Description: " + mime.QEncoding.Encode("utf-8", a.name),
		"Content-Disposition: " + mime.FormatMediaType(disp, map[string]string{
			"filename": a.name, "size": strconv.Itoa(len(a.data)), "creation-date": date, "modification-date": date,
		}),
	}}
	if cid != "" {
		p.header = append(p.header, "Content-ID: <"+cid+">")
	}
	if a.message {
		p.body = a.data
		return p
	}
	p.header = append(p.header, "Content-Transfer-Encoding: base64")
	enc := base64.StdEncoding.EncodeToString(a.data)
	var body bytes.Buffer
	body.Grow(len(enc) + len(enc)/76*2 + 2)
	for len(enc) > 76 {
		body.WriteString(enc[:76])
		body.WriteString("\r\n")
		enc = enc[76:]
	}
	body.WriteString(enc)
	body.WriteString("\r\n")
	p.body = body.Bytes()
	return p
}

const demoHTMLHead = `<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"><style type="text/css" style="display:none;"> P {margin-top:0;margin-bottom:0;} </style></head>`

func demoSimpleHTML(text string) string {
	var b strings.Builder
	b.WriteString(demoHTMLHead)
	b.WriteString("\n<body dir=\"ltr\">\n<div style=\"font-family: Aptos, Calibri, Helvetica, sans-serif; font-size: 11pt; color: rgb(0, 0, 0);\">\n")
	quote, _, hasQuote := strings.Cut(text, "________________________________\n")
	if hasQuote {
		_, orig, _ := strings.Cut(text, "________________________________\n")
		demoHTMLParas(&b, quote)
		b.WriteString("</div>\n<hr style=\"display:inline-block;width:98%\" tabindex=\"-1\">\n<div id=\"divRplyFwdMsg\" dir=\"ltr\">\n")
		demoHTMLParas(&b, orig)
	} else {
		demoHTMLParas(&b, text)
	}
	b.WriteString("</div>\n</body>\n</html>\n")
	return b.String()
}

func demoHTMLParas(b *strings.Builder, text string) {
	for _, para := range strings.Split(strings.TrimSpace(text), "\n\n") {
		b.WriteString("<p>")
		b.WriteString(strings.ReplaceAll(html.EscapeString(para), "\n", "<br>\n"))
		b.WriteString("</p>\n<p><br></p>\n")
	}
}

func demoNewsletterHTML(from, text, cid string) string {
	var b strings.Builder
	b.WriteString(demoHTMLHead)
	b.WriteString("\n<body style=\"margin:0;background:#f4f1ea\">\n<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\"><tr><td align=\"center\">\n")
	b.WriteString("<table role=\"presentation\" width=\"600\" style=\"background:#ffffff;font-family:Georgia,serif\">\n")
	b.WriteString("<tr><td style=\"padding:16px\"><img src=\"cid:" + cid + "\" width=\"120\" height=\"36\" alt=\"" + html.EscapeString(from) + "\"></td></tr>\n")
	for _, para := range strings.Split(strings.TrimSpace(text), "\n\n") {
		b.WriteString("<tr><td style=\"padding:8px 16px;font-size:15px;line-height:1.5\">")
		b.WriteString(strings.ReplaceAll(html.EscapeString(para), "\n", "<br>"))
		b.WriteString("</td></tr>\n")
	}
	b.WriteString("</table>\n</td></tr></table>\n</body>\n</html>\n")
	return b.String()
}

// ---- files ----

type demoFile struct {
	path    string
	content Content // nil for an (empty) folder
	mod     time.Time
}

// File kinds, by extension.
const (
	fkFolder = iota
	fkText
	fkJapanese
	fkCSV
	fkPDF
	fkPNG
	fkOffice
	fkPhoto
	fkZip
	fkVideo
)

// demoInMemoryMax is the largest file built in memory; anything bigger is
// generated block by block when read.
const demoInMemoryMax = 256 << 10

type demoFileSpec struct {
	path   string
	kind   int
	lo, hi int64
}

// demoSignatureFiles come first in each drive: the names and sizes that
// make a backup tool sweat (Unicode in several scripts and normal forms,
// empty and one-byte files, upload-size boundaries, deep paths, a long
// name, big files). A user with fewer files gets the first ones.
var demoSignatureFiles = [4][]demoFileSpec{
	demoOwner: {
		{"Documents/Budget 2026.xlsx", fkOffice, 180 << 10, 180 << 10},
		{"Documents/Präsentation Café.pptx", fkOffice, 6_500_000, 6_500_000},
		{"Documents/Menü – Sommer.docx", fkOffice, 85_000, 85_000},
		{"Documents/日本語メモ.txt", fkJapanese, 2_000, 2_000},
		{"Documents/empty.txt", fkText, 0, 0},
		{"Documents/one byte.txt", fkText, 1, 1},
		{"Photos/Holiday video 2025.mp4", fkVideo, 48 << 20, 48 << 20},
		{"Shared/Projects/Café extension/Plans/Architect/Revisions/2025/rev-07 (final).pdf", fkPDF, 140_000, 140_000},
		{"Documents/Q1 report #2 (final) 100%.pdf", fkPDF, 64_000, 64_000},
		{"Documents/Zoë's notes & ideas.txt", fkText, 3_000, 3_000},
		{"Documents/🎂 Cake ideas.docx", fkOffice, 40_000, 40_000},
		{"Documents/Minutes of the annual general meeting of the Contoso Bakery cooperative held in the back room on a rainy Tuesday evening with cake, coffee and a surprisingly long discussion about sourdough starters and oven schedules.txt", fkText, 4_000, 4_000},
		{"Scans/Lease agreement (scan).pdf", fkPDF, 4 << 20, 4 << 20},
		{"Scans/Insurance policy (scan).pdf", fkPDF, 4<<20 + 1, 4<<20 + 1},
		{"Scans/Tax return 2024 (scan).pdf", fkPDF, 320 << 10, 320 << 10},
		{"Scans/Bank statements 2025.pdf", fkPDF, 10<<20 + 1, 10<<20 + 1},
		{"Shared/Old projects", fkFolder, 0, 0},
	},
	demoOffice: {
		{"Shared/Projects/Website relaunch/site-backup-2025-11.zip", fkZip, 35 << 20, 35 << 20},
		{"Invoices/2025/Rechnung März 2025 – Müller Mühle.pdf", fkPDF, 48_000, 48_000},
		{"Payroll/Gehaltsabrechnung Dezember.xlsx", fkOffice, 70_000, 70_000},
		{"Documents/Cafe\u0301 menu (NFD).pdf", fkPDF, 30_000, 30_000},
		{"Documents/Ελληνικά έγγραφα.docx", fkOffice, 25_000, 25_000},
		{"Documents/Отчёт за квартал.xlsx", fkOffice, 44_000, 44_000},
		{"Documents/empty.csv", fkCSV, 0, 0},
	},
	demoSales: {
		{"Presentations/Präsentation Hochzeitstorten.pptx", fkOffice, 12 << 20, 12 << 20},
		{"Customers/Søren's wedding – quote.docx", fkOffice, 52_000, 52_000},
		{"Photos/Cakes/Tarte au citron – finale.jpg", fkPhoto, 3_100_000, 3_100_000},
		{"Customers/Fabrikam/Orders 2025.csv", fkCSV, 20_000, 20_000},
		{"Customers/Ωμέγα Catering/Προσφορά.pdf", fkPDF, 35_000, 35_000},
	},
	demoStaff: {
		{"Recipes/Sourdough – master recipe.docx", fkOffice, 38_000, 38_000},
		{"Documents/メモ.txt", fkJapanese, 900, 900},
	},
}

type demoBucket struct {
	weight int
	dir    string
	names  []string
}

var demoCommonNames = []string{"Notes {dateiso}.txt", "Ideas for {month}.docx", "To do.txt", "Letter to {company}.docx", "Contacts.csv", "Checklist {month}.md", "Scan {dateiso}.pdf"}

var demoFinanceNames = []string{"Budget {year}.xlsx", "Cash flow {month} {year}.xlsx", "Bank statement {month} {year}.pdf", "Loan offer.pdf", "Forecast {year}.xlsx"}

var demoProjectNames = []string{"Plan.docx", "Budget.xlsx", "Floor plan v{n}.pdf", "Mood board.pptx", "Quotes.xlsx", "Photos {n}.zip", "Notes.txt", "Logo draft {n}.png"}

var demoRecipeNames = []string{"{Bake}.docx", "{Bake} costing.xlsx", "Crème pâtissière.txt", "Lebkuchen (Oma's).docx", "{Bake} – photo.jpg"}

var demoBuckets = [4][]demoBucket{
	demoOwner: {
		{10, "Documents", demoCommonNames},
		{8, "Documents/Finance", demoFinanceNames},
		{8, "Invoices/{year}", []string{"Invoice {invno} {supshort}.pdf"}},
		{16, "Photos/{year}/{event}", []string{"IMG_{n4}.jpg"}},
		{1, "Photos/{year}/{event}", []string{"VID_{n4}.mp4"}},
		{8, "Shared/Projects/{project}", demoProjectNames},
		{6, "Recipes", demoRecipeNames},
	},
	demoOffice: {
		{8, "Documents", demoCommonNames},
		{16, "Invoices/{year}", []string{"Invoice {invno} {supshort}.pdf"}},
		{8, "Payroll/{year}", []string{"Payroll {month} {year}.xlsx", "Payslips {month} {year}.pdf"}},
		{8, "Suppliers/{supshort}", []string{"Contract.pdf", "Price list {year}.pdf", "Orders {year}.csv", "Correspondence.docx"}},
		{6, "Documents/Finance", demoFinanceNames},
		{10, "Receipts/{year}", []string{"Receipt {dateiso}.jpg", "Receipt {dateiso}.pdf"}},
		{4, "Shared/Projects/{project}", demoProjectNames},
	},
	demoSales: {
		{8, "Documents", demoCommonNames},
		{12, "Customers/{company}", []string{"Quote {n}.docx", "Order history.csv", "Cake design.png", "Contract.pdf"}},
		{8, "Quotes/{year}", []string{"Quote {orderno} – {custname}.pdf"}},
		{14, "Photos/Cakes", []string{"{Bake} {n}.jpg", "Wedding cake {n}.jpg", "Display {n}.png"}},
		{4, "Presentations", []string{"Wedding cakes {year}.pptx", "Catering menu {year}.pptx"}},
	},
	demoStaff: {
		{8, "Documents", demoCommonNames},
		{10, "Recipes", demoRecipeNames},
		{6, "Rota", []string{"Rota week {week}.xlsx"}},
		{10, "Photos/{year}", []string{"IMG_{n4}.jpg"}},
	},
}

var demoEvents = []string{"Shop opening", "Summer market", "Christmas window", "Team outing", "New oven", "Koningsdag"}

var demoProjects = []string{"Website relaunch", "Café extension", "Summer menu", "Wholesale", "Rebranding – 2026"}

// demoKindOf returns a file kind and its usual size range from the extension.
func demoKindOf(name, dir string) (kind int, lo, hi int64) {
	ext := strings.ToLower(name[strings.LastIndexByte(name, '.')+1:])
	switch ext {
	case "txt", "md":
		return fkText, 200, 40 << 10
	case "csv":
		return fkCSV, 500, 200 << 10
	case "pdf":
		return fkPDF, 20 << 10, 2 << 20
	case "png":
		return fkPNG, 0, 0
	case "docx":
		return fkOffice, 12 << 10, 900 << 10
	case "xlsx":
		return fkOffice, 9 << 10, 2 << 20
	case "pptx":
		return fkOffice, 200 << 10, 12 << 20
	case "jpg":
		if strings.HasPrefix(dir, "Receipts") {
			return fkPhoto, 150 << 10, 1500 << 10
		}
		return fkPhoto, 600 << 10, 6 << 20
	case "zip":
		return fkZip, 50 << 10, 20 << 20
	case "mp4":
		return fkVideo, 5 << 20, 30 << 20
	}
	return fkText, 100, 10 << 10
}

// files returns a user's drive content.
func (g *demoGen) files(ui int) []demoFile {
	n := g.opts.FilesPerUser
	role := demoPeople[ui].role
	r := newDemoRand(demoKey(g.seed, demoStreamFilePlan, uint64(ui)))
	used := map[string]bool{}
	var out []demoFile
	add := func(path string, kind int, size int64, mod time.Time) {
		path = demoUniquePath(used, path)
		key := demoKey(g.seed, demoStreamFileContent, uint64(ui), uint64(len(out)))
		var c Content
		if kind != fkFolder {
			c = demoFileContent(kind, min(size, g.opts.MaxFileSize), key, path)
		}
		out = append(out, demoFile{path: path, content: c, mod: mod.Truncate(time.Second)})
	}
	for _, s := range demoSignatureFiles[role] {
		if len(out) >= n {
			return out
		}
		add(s.path, s.kind, s.lo+r.int64n(s.hi-s.lo+1), g.randomTime(r, 0))
	}
	weights := make([]int, len(demoBuckets[role]))
	for i, b := range demoBuckets[role] {
		weights[i] = b.weight
	}
	for len(out) < n {
		b := demoBuckets[role][demoPickWeighted(r, weights)]
		year := 0
		if strings.Contains(b.dir, "{year}") {
			year = demoPick(r, g.years)
		}
		mod := g.randomTime(r, year)
		bake := demoPick(r, demoBakes)
		_, week := mod.ISOWeek()
		vars := map[string]string{
			"year":     strconv.Itoa(mod.Year()),
			"month":    demoMonths[mod.Month()-1],
			"dateiso":  mod.Format("2006-01-02"),
			"week":     strconv.Itoa(week),
			"invno":    fmt.Sprintf("%d-%04d", mod.Year(), r.between(1, 9999)),
			"orderno":  fmt.Sprintf("PO-%05d", r.between(1, 99999)),
			"supshort": demoPick(r, demoSuppliers).short,
			"company":  demoPick(r, demoCustomers[:]).company,
			"custname": demoPick(r, demoCustomers).name,
			"project":  demoPick(r, demoProjects),
			"event":    demoPick(r, demoEvents),
			"n":        strconv.Itoa(r.between(1, 12)),
			"n4":       fmt.Sprintf("%04d", r.intn(10000)),
			"bake":     bake,
			"Bake":     strings.ToUpper(bake[:1]) + bake[1:],
		}
		if vars["company"] == "" {
			vars["company"] = "Walk-in customers"
		}
		dir := demoFillVars(b.dir, vars)
		name := demoFillVars(demoPick(r, b.names), vars)
		kind, lo, hi := demoKindOf(name, dir)
		add(dir+"/"+name, kind, r.logSize(lo, hi), mod)
	}
	return out
}

// demoFolderTimes returns every folder of a drive, parents first, each
// with the oldest time of the files below it.
func demoFolderTimes(files []demoFile) []demoFile {
	oldest := map[string]time.Time{}
	for _, f := range files {
		p := f.path
		if f.content == nil {
			p += "/" // an empty folder is its own folder
		}
		for i := strings.LastIndexByte(p, '/'); i > 0; i = strings.LastIndexByte(p[:i], '/') {
			d := p[:i]
			if t, ok := oldest[d]; !ok || f.mod.Before(t) {
				oldest[d] = f.mod
			}
		}
	}
	out := make([]demoFile, 0, len(oldest))
	for d, t := range oldest {
		out = append(out, demoFile{path: d, mod: t})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out
}

// randomTime returns a time in the two years before the reference, within
// year when it is not zero.
func (g *demoGen) randomTime(r *demoRand, year int) time.Time {
	from, to := g.start, g.ref
	if year != 0 {
		from = demoMaxTime(from, time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC))
		to = demoMinTime(to, time.Date(year+1, 1, 1, 0, 0, 0, 0, time.UTC))
	}
	return from.Add(time.Duration(r.int64n(int64(to.Sub(from)/time.Second))) * time.Second)
}

func demoMaxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func demoMinTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func demoFillVars(s string, vars map[string]string) string {
	c := demoConv{vars: vars}
	return c.fill(s)
}

// demoUniquePath makes a path unique ignoring case, as OneDrive compares names,
// by numbering the name: "Notes.txt", "Notes (2).txt".
func demoUniquePath(used map[string]bool, path string) string {
	base, ext := path, ""
	if i := strings.LastIndexByte(path, '.'); i > strings.LastIndexByte(path, '/') {
		base, ext = path[:i], path[i:]
	}
	p := path
	for k := 2; used[strings.ToLower(p)]; k++ {
		p = fmt.Sprintf("%s (%d)%s", base, k, ext)
	}
	used[strings.ToLower(p)] = true
	return p
}

// demoFileContent makes a file's bytes: small structured files in memory,
// everything else generated on demand.
func demoFileContent(kind int, size int64, key uint64, path string) Content {
	r := newDemoRand(key)
	if size == 0 && kind != fkPNG {
		return BytesContent{}
	}
	switch kind {
	case fkJapanese:
		var b strings.Builder
		for int64(b.Len()) < size {
			b.WriteString(demoPick(r, demoJapanese))
			b.WriteString("\n")
		}
		return BytesContent(b.String())
	case fkCSV:
		if size <= demoInMemoryMax {
			var b strings.Builder
			b.WriteString("Date,Customer,Item,Quantity,Total\r\n")
			for int64(b.Len()) < size {
				fmt.Fprintf(&b, "2025-%02d-%02d,%s,%s,%d,%s\r\n", r.between(1, 12), r.between(1, 28),
					strings.ReplaceAll(demoPick(r, demoCustomers).name, ",", ""), demoPick(r, demoBakes), r.between(1, 80),
					strings.ReplaceAll(demoEuro(r.between(100, 90000)), ",", ""))
			}
			return BytesContent(b.String())
		}
		return &demoContent{key: key, size: size, text: true}
	case fkPDF:
		if size <= demoInMemoryMax {
			lines := []string{path[strings.LastIndexByte(path, '/')+1:], ""}
			for i := r.between(5, 30); i > 0; i-- {
				lines = append(lines, strings.ReplaceAll(string(demoGenBytes(r.next(), r.between(30, 80), true, "")), "\n", " "))
			}
			pdf := demoMakePDF(lines, nil)
			if pad := size - int64(len(pdf)) - 300; pad > 0 {
				pdf = demoMakePDF(lines, demoGenBytes(r.next(), int(pad), false, ""))
			}
			return BytesContent(pdf)
		}
		return &demoContent{key: key, size: size, text: true, prefix: demoSigPDF}
	case fkPNG:
		return BytesContent(demoPNG(r, r.between(64, 320), r.between(48, 240)))
	case fkText:
		if size <= demoInMemoryMax {
			return BytesContent(demoGenBytes(key, int(size), true, ""))
		}
		return &demoContent{key: key, size: size, text: true}
	case fkOffice:
		return &demoContent{key: key, size: size, text: true, prefix: demoSigZIP}
	case fkPhoto:
		return &demoContent{key: key, size: size, prefix: demoSigJPEG}
	case fkVideo:
		return &demoContent{key: key, size: size, prefix: demoSigMP4}
	default:
		return &demoContent{key: key, size: size, prefix: demoSigZIP}
	}
}
