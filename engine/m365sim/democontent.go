package m365sim

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/adler32"
	"hash/crc32"
	"io"
	"math/bits"
	"strings"
	"sync"
)

// This file holds what the demo tenant is made of: the deterministic random
// source, the people and organisations, the text templates, and generators
// for the few file formats attachments and files use (PDF, PNG, CSV, and
// lazily generated content for large files). Everything here is a pure
// function of its inputs so that the same seed gives the same tenant on
// every machine and Go version: no math/rand, no compress/flate.

// ---- deterministic randomness ----

// demoRand is SplitMix64: tiny, fast, and fixed forever by its definition.
type demoRand struct{ s uint64 }

func newDemoRand(key uint64) *demoRand { return &demoRand{s: key} }

func (r *demoRand) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	return demoMix64(r.s)
}

func demoMix64(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// demoKey derives an independent stream key from a path of numbers.
func demoKey(parts ...uint64) uint64 {
	h := uint64(0x6c62272e07bb0142)
	for _, p := range parts {
		h = demoMix64(h ^ demoMix64(p+0x9e3779b97f4a7c15))
	}
	return h
}

// intn returns a number in [0, n); n must be positive.
func (r *demoRand) intn(n int) int {
	hi, _ := bits.Mul64(r.next(), uint64(n))
	return int(hi)
}

// between returns a number in [lo, hi].
func (r *demoRand) between(lo, hi int) int { return lo + r.intn(hi-lo+1) }

func (r *demoRand) int64n(n int64) int64 {
	hi, _ := bits.Mul64(r.next(), uint64(n))
	return int64(hi)
}

func (r *demoRand) float() float64 { return float64(r.next()>>11) / (1 << 53) }

func (r *demoRand) chance(p float64) bool { return r.float() < p }

// logSize returns a size in [lo, hi] spread roughly evenly on a log scale:
// a bit length is chosen uniformly, then a value of that length. Integer
// arithmetic only, so the result is the same on every platform.
func (r *demoRand) logSize(lo, hi int64) int64 {
	if lo < 1 {
		lo = 1
	}
	if hi <= lo {
		return lo
	}
	lb, hb := bits.Len64(uint64(lo)), bits.Len64(uint64(hi))
	for {
		b := lb + r.intn(hb-lb+1)
		v := int64(1)<<(b-1) + r.int64n(int64(1)<<(b-1))
		if v >= lo && v <= hi {
			return v
		}
	}
}

func demoPick[T any](r *demoRand, xs []T) T { return xs[r.intn(len(xs))] }

// demoPickWeighted returns an index chosen by weight.
func demoPickWeighted(r *demoRand, weights []int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	n := r.intn(total)
	for i, w := range weights {
		if n < w {
			return i
		}
		n -= w
	}
	return len(weights) - 1
}

// ---- people and organisations ----

type demoPerson struct {
	local, name, title string
	role               int // demoOwner, demoOffice, demoSales, demoStaff
}

const (
	demoOwner = iota
	demoOffice
	demoSales
	demoStaff
)

// demoPeople are the tenant's users, in order; DemoOptions.Users takes the
// first N.
var demoPeople = []demoPerson{
	{"zoe.bakker", "Zoë Bakker", "Owner", demoOwner},
	{"paul.martin", "Paul Martin", "Office Manager", demoOffice},
	{"amelie.dubois", "Amélie Dubois", "Sales & Events", demoSales},
	{"jonas.weber", "Jonas Weber", "Head Baker", demoStaff},
	{"kenji.sato", "Kenji Satō", "Pastry Chef", demoStaff},
	{"sofia.garcia", "Sofía García", "Shop Manager", demoStaff},
}

type demoOrg struct {
	name, short, domain string
	contact, local      string
	zone                int // 0 = UK time, 1 = central European time
	products            []string
}

var demoSuppliers = []demoOrg{
	{"Müller Mühle GmbH", "Müller Mühle", "mueller-muehle.example", "Katrin Müller", "k.mueller", 1, []string{"type 550 wheat flour", "rye flour 1150", "spelt flour", "wholemeal flour", "semolina"}},
	{"Dairy Fresh Ltd", "Dairy Fresh", "dairyfresh.example", "Tom Hughes", "orders", 0, []string{"double cream", "unsalted butter", "whole milk", "crème fraîche", "mascarpone"}},
	{"PackRight Packaging", "PackRight", "packright.example", "Priya Shah", "priya.shah", 0, []string{"cake boxes (10 inch)", "paper bags", "compostable cups", "bread bags", "ribbon rolls"}},
	{"Café Lumière Roasters", "Café Lumière", "cafelumiere.example", "Élodie Laurent", "elodie", 1, []string{"house espresso blend", "decaf beans", "oat milk", "chai syrup"}},
	{"Nordic Butter AB", "Nordic Butter", "nordicbutter.example", "Åsa Lindqvist", "asa.lindqvist", 1, []string{"cultured butter", "butter sheets for laminating", "skyr"}},
	{"GreenBox Produce", "GreenBox", "greenbox.example", "Dan O'Connor", "dan", 0, []string{"free-range eggs", "lemons", "raspberries", "apples (Braeburn)", "rhubarb"}},
	{"Sweet Supplies Co.", "Sweet Supplies", "sweetsupplies.example", "Maya Chen", "sales", 0, []string{"Belgian dark chocolate", "vanilla pods", "icing sugar", "sprinkles", "marzipan"}},
}

var demoCustomers = []struct{ name, local, domain, company string }{
	{"Søren Madsen", "soren.madsen", "fabrikam.example", "Fabrikam"},
	{"Łukasz Nowak", "lukasz", "northwind.example", "Northwind Traders"},
	{"José Álvarez", "jose.alvarez", "tailspintoys.example", "Tailspin Toys"},
	{"Chloé Martin", "chloe.m", "mailbox.example", ""},
	{"Yuki Tanaka", "yuki.tanaka", "wideworldimporters.example", "Wide World Importers"},
	{"Олена Коваленко", "olena.k", "mailbox.example", ""},
	{"Νίκος Παπαδόπουλος", "nikos.p", "adventure-works.example", "Adventure Works"},
	{"Emma Thompson", "emma.t", "mailbox.example", ""},
	{"Liam O'Brien", "liam.obrien", "litware.example", "Litware"},
	{"Fatima Zahra", "fatima.zahra", "mailbox.example", ""},
	{"Grace Kim", "grace", "proseware.example", "Proseware"},
	{"Mehmet Yılmaz", "mehmet.yilmaz", "mailbox.example", ""},
	{"Hannah Fischer", "hannah.fischer", "coho-winery.example", "Coho Winery"},
	{"Oliver Bennett", "oliver.bennett", "mailbox.example", ""},
	{"Aoife Murphy", "aoife", "lucerne-publishing.example", "Lucerne Publishing"},
}

var demoNewsletters = []struct{ name, local, domain, title string }{
	{"The Bakers' Digest", "news", "bakersdigest.example", "The Bakers' Digest"},
	{"Flour Market Weekly", "weekly", "flourmarket.example", "Flour Market Weekly"},
	{"Fourth Coffee Bank", "no-reply", "fourthcoffeebank.example", "Your statement"},
	{"Contoso Books", "notifications", "contosobooks.example", "Contoso Books"},
	{"Local Business Network", "hello", "lbn.example", "Local Business Network"},
}

var demoSpammers = []struct{ name, addr string }{
	{"Parcel Service", "tracking@parcel-notify.example"},
	{"Prize Department", "winner@lucky-draw.example"},
	{"IT Helpdesk", "helpdesk@mailbox-verify.example"},
	{"Oven Deals", "offers@cheap-ovens.example"},
	{"Accounts Payable", "ap@invoice-portal.example"},
}

var demoTowns = []string{"Haarlem", "Leiden", "Zaandam", "Utrecht", "Amstelveen", "Hoofddorp", "Delft", "Almere"}

var demoBakes = []string{"sourdough loaves", "croissants", "pains au chocolat", "cinnamon buns", "lemon tarts", "carrot cake", "brownies", "stroopwafels", "macarons", "focaccia", "bagels", "apple pie", "Sachertorte", "crème brûlée tarts", "kanelbullar"}

var demoMonths = []string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}

var demoDays = []string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}

var demoCategories = []string{"Red category", "Orange category", "Yellow category", "Green category", "Blue category", "Purple category", "Suppliers", "Wedding orders", "Follow up"}

// ---- message templates ----
//
// Placeholders: {first} the recipient's first name, {sender} the sender's
// name, {me} the mailbox owner's first name, {org} the sender's
// organisation, {supplier} a supplier, {product} a supplier's product,
// {bake} something the bakery makes, {qty}, {qty2}, {amount}, {invno},
// {orderno}, {due}, {day}, {date}, {month}, {year}, {week}, {town},
// {guests}, {company}, {colleague} (a third colleague).

var demoInvoiceSubjects = []string{
	"Invoice {invno} from {supplier}",
	"Your invoice {invno} – due {due}",
	"Rechnung {invno} – {supplier}",
	"Invoice {invno} (PO {orderno})",
	"Statement of account – {month} {year}",
	"Reminder: invoice {invno} is due on {due}",
}

var demoInvoiceBodies = []string{
	"Dear {first},\n\nPlease find attached invoice {invno} for {amount}, covering your order {orderno}. Payment is due by {due}.\n\nOur bank details are printed on the invoice. If anything looks wrong, just reply to this email and we will sort it out.",
	"Hello {first},\n\nThank you for your order. Attached is invoice {invno} ({amount}).\n\nPlease quote the invoice number with your payment. Payment terms: 30 days net.",
	"Hi {first},\n\nA friendly reminder that invoice {invno} for {amount} is due on {due}. If you have already paid, please ignore this message.\n\nThe invoice is attached again for your convenience.",
	"Guten Tag {first},\n\nanbei erhalten Sie die Rechnung {invno} über {amount}. Zahlbar bis {due} ohne Abzug.\n\n(English: please find attached invoice {invno}, payable by {due}.)",
}

// demoTemplate is a subject and a body that belong together.
type demoTemplate struct{ subject, body string }

// demoSupplierNotices are messages a supplier sends unprompted.
var demoSupplierNotices = []demoTemplate{
	{"Order confirmation {orderno}", demoSupplierConfirm},
	{"Delivery on {day}: {qty} x {product}", "Hi {first},\n\nYour delivery for {day} is on the van: {qty} x {product} and {qty2} x {product2}. Delivery note {orderno} is attached; please sign it and hand it back to the driver."},
	{"Price update from 1 {month}", "Dear {first},\n\nDue to higher costs from our own suppliers, prices for {product} will go up by {pct}% from 1 {month}. Your standing order is otherwise unchanged.\n\nThank you for your understanding."},
	{"Out of stock: {product}", "Hello {first},\n\nUnfortunately {product} is out of stock until {date}. We can offer {product2} at the same price instead, or deliver the rest of the order now and the {product} later.\n\nLet me know what works best."},
	{"Change to your standing order", "Hi {first},\n\nAs discussed on the phone, from next week your standing order changes to {qty} x {product} on {day}s. Everything else stays the same."},
	{"Delivery note {orderno}", "Hi {first},\n\nPlease find attached delivery note {orderno} for today's delivery.\n\nThank you for your business."},
}

const demoSupplierConfirm = "Hi {first},\n\nConfirming your order {orderno}:\n\n  {qty} x {product}\n  {qty2} x {product2}\n\nDelivery is planned for {day} morning between 6 and 8. Please make sure someone is at the back door."

// demoSupplierOrders are messages the bakery sends its suppliers.
var demoSupplierOrders = []demoTemplate{
	{"Order for week {week}", "Hi {first},\n\nCould we please have the following for {day}:\n\n  {qty} x {product}\n  {qty2} x {product2}\n\nSame delivery time as usual. Thanks!"},
	{"Extra order for the weekend", "Hello {first},\n\nWe are expecting a busy weekend, so please add {qty} x {product} to this week's order."},
	{"Short delivery on {day}", "Hi {first},\n\nThe last delivery of {product} was short by {qty2} units. Could you add them to {day}'s delivery or credit us on the next invoice?"},
}

// demoCustomerQuestions are what customers write to the bakery.
var demoCustomerQuestions = []demoTemplate{
	{"Question about gluten-free options", "Hello Contoso Bakery,\n\nDo you have gluten-free or vegan options? We have a few guests with dietary requirements at our party on {date}.\n\nThank you!"},
	{"Wedding cake for {guests} guests?", "Hello,\n\nWe are getting married on {date} in {town} and are looking for a wedding cake for {guests} guests. Could you send us some ideas and prices?\n\nMany thanks,"},
	{"Do you deliver to {town}?", "Hi there,\n\nDo you deliver to {town}? I'd like to order {qty} {bake} for our office on {day}.\n\nBest wishes,"},
	{"Allergens in your {bake}", "Hi there,\n\nMy daughter has a nut allergy. Are your {bake} made in a nut-free environment? We would love to order some for her birthday.\n\nBest wishes,"},
	{"Birthday cake for Saturday 🎂", "Hi!\n\nCould you make a chocolate birthday cake for 12 people for this Saturday? Writing on top: \"Happy 40th, Sam!\" I've attached a picture of what we had in mind.\n\nThanks so much,"},
	{"Opening hours over the holidays", "Hello,\n\nAre you open on the 26th? We'd like to pick up {qty} {bake} for a family lunch.\n\nKind regards,"},
	{"Große Bestellung für Freitag", "Guten Tag,\n\nwir möchten für Freitag {qty} {bake} bestellen (Abholung um 9 Uhr). Ist das möglich?\n\nViele Grüße,"},
	{"Commande pour samedi – {qty} croissants", "Bonjour,\n\nPourriez-vous préparer {qty} croissants et {qty2} pains au chocolat pour samedi matin ? Je passerai vers 8h30.\n\nMerci beaucoup,"},
	{"Feedback on the {bake} ★★★★★", "Hello,\n\nWe tried your {bake} last weekend and they were wonderful. The whole family says thank you!\n\nKind regards,"},
	{"Can I pre-order {qty} {bake}?", "Good morning,\n\nWould it be possible to order {qty} {bake} for {day}? We could pick them up at 9.\n\nKind regards,"},
	{"Vegan options for an office party", "Hi,\n\nWe're planning an office party for {guests} people at {company} on {date}. About a third of us are vegan. What could you offer?\n\nThanks,"},
	{"Lost umbrella in your café ☂", "Hi,\n\nI left my umbrella (dark green) at the table by the window yesterday afternoon. Has anyone handed it in?\n\nThanks so much,"},
}

// demoInternalNotes pass between colleagues; {colleague} is a third person.
var demoInternalNotes = []demoTemplate{
	{"Notes from Monday's team meeting", "Hi {first},\n\nQuick notes from this morning:\n\n- {bake} sold out by 11 every day this week; bake more on {day}\n- Oven 2 needs a service; {colleague} will call the engineer\n- Stock count on {date}\n- Summer menu tasting next {day}\n\nShout if I missed anything."},
	{"Rota for week {week}", "Hi {first},\n\nThe rota for week {week} is attached. {colleague} has swapped {day} with me. Let me know by Thursday if anything doesn't work."},
	{"Oven 2 is making that noise again", "{first},\n\nOven 2 started beeping again during the morning bake. I've put a note on it. Can you call the service company today?"},
	{"Holiday requests – {month}", "Hi {first},\n\nCould you put your holiday requests for {month} in the shared calendar by Friday? {colleague} has already asked for the second week."},
	{"Stock count {date}", "Hi {first},\n\nReminder: stock count on {date} after closing. Could you count the dry store? {colleague} does the fridges."},
	{"Christmas opening plan", "Hi {first},\n\nDraft plan for Christmas week: open 7–18 on the 23rd and 24th, closed on the 25th and 26th, stollen pre-orders from 1 December. Thoughts?"},
	{"New supplier for {product}?", "Hi {first},\n\nWhat do you think about switching to {supplier} for {product}? Their price is about {pct}% lower and they deliver on {day}s."},
	{"Fwd: Invoice {invno} from {supplier}", "Hi {first},\n\nCan you check this one before we pay it? I think they charged us twice for the {product}."},
	{"Can you cover {day}?", "Hi {first},\n\nI'm off on {day}. Could you cover the morning shift? Happy to swap for a weekend."},
	{"Idea: {bake} for the summer menu ☀", "Hi {first},\n\nHow about {bake} for the summer menu? I made a test batch yesterday; it's in the walk-in fridge. Try one and tell me what you think."},
}

var demoReplyBodies = []string{
	"Hi {first},\n\nThank you for your message. Yes, we can do that. I have pencilled in {qty} {bake} for {day}; the total would be {amount} including VAT.\n\nPlease confirm and we will finalise the order.",
	"Dear {first},\n\nThanks for getting in touch. All of our {bake} are made in a kitchen that also handles nuts, so unfortunately we cannot guarantee they are nut-free. Our lemon tarts and focaccia contain no nuts as ingredients.",
	"Hello {first},\n\nGreat to hear from you! We deliver to {town} on Tuesdays and Fridays for orders over €50. I've attached our current price list.",
	"Hi {first},\n\nThanks — that's all confirmed. See you on {day}!",
}

var demoCateringSubjects = []string{
	"Catering order for {company} – {date}",
	"Order #{orderno}: {qty} sandwiches, {qty2} pastries",
	"Updated headcount for {day}",
	"Breakfast meeting on {date}",
}

var demoCateringBodies = []string{
	"Hi {first},\n\nPlease find attached our order for the team breakfast on {date} ({guests} people). Delivery to our office reception at 8:30 would be ideal.\n\nInvoice to {company}, PO {orderno}.",
	"Hello {first},\n\nSmall change: we are now {guests} people on {day}, so could you scale the order up accordingly? Updated list attached.\n\nThanks!",
	"Hi {first},\n\nCould we have the usual for {day}: {qty} sandwiches, {qty2} pastries and fruit for {guests} people? Delivery to reception by 12:00 please.\n\nInvoice to {company} as always.",
	"Hello {first},\n\nWe need to cancel Thursday's lunch order, sorry for the short notice. Could you move it to {date} instead?",
}

var demoNewsletterSubjects = []string{
	"{title} – {month} {year}",
	"Flour prices this week: {trend}",
	"Your {month} statement is ready",
	"5 ideas for your autumn menu",
	"Webinar: sourdough at scale",
	"Your weekly sales summary",
	"Reminder: VAT return due {due}",
}

var demoNewsletterParas = []string{
	"This month: how three independent bakeries cut energy costs by baking in two shifts, a guide to pricing celebration cakes, and our reader survey results.",
	"Wheat futures moved {trend} this week. Millers expect prices for type 550 flour to stay {trend} through {month}.",
	"Your statement for {month} {year} is now available in online banking. Log in to view and download it.",
	"Join our free webinar on {date}: scaling sourdough production without losing the crust. Places are limited.",
	"Sales this week were {pct}% higher than the same week last year. Top seller: {bake}.",
	"Don't forget: the deadline for your quarterly VAT return is {due}. Connect your bank feed to file in minutes.",
}

var demoNotificationSubjects = []string{
	"Payment received – {amount}",
	"Your delivery slot is confirmed for {day}",
	"New review on your shop page ★★★★☆",
	"Your password expires in 7 days",
	"Card payment of {amount} declined",
	"Booking confirmed: table for {guests} on {date}",
}

var demoSpamSubjects = []string{
	"You have (1) pending parcel",
	"Congratulations!!! You won a €1000 voucher",
	"URGENT: verify your mailbox now",
	"Commercial ovens – 90% off today only",
	"Invoice overdue – action required",
	"Ваш заказ готов",
}

var demoSpamBodies = []string{
	"Dear customer,\n\nYour parcel could not be delivered. Pay the €1.99 customs fee within 24 hours or it will be returned.\n\nClick here to reschedule.",
	"Congratulations!\n\nYou have been selected to receive a €1000 voucher. Claim it now before it expires!",
	"Your mailbox is almost full. Verify your account within 24 hours or you will lose your emails.",
	"LAST CHANCE!!! Professional deck ovens from €499. Free shipping. Reply STOP to unsubscribe.",
}

var demoSignOffs = []string{"Kind regards,", "Best wishes,", "Thanks,", "Many thanks,", "Cheers,", "Best,", "Met vriendelijke groet,"}

// demoWords make up generated text files.
var demoWords = strings.Fields(`the a and of to in for with on our your we flour butter sugar eggs
	dough oven bake loaf loaves croissant pastry cream order delivery invoice supplier customer
	week morning shift price cost total batch recipe proof rise knead fold shape score crust
	crumb starter levain hydration temperature minutes hours grams kilo litre tray rack shelf
	counter café menu summer winter autumn spring season wedding cake tart pie bun roll
	chocolate vanilla lemon raspberry apple cinnamon cardamom almond hazelnut pistachio
	plan budget forecast sales margin staff rota meeting notes follow up agreed next steps
	Müller crème brûlée Zoë naïve façade déjà smörgåsbord Straße`)

var demoJapanese = []string{
	"来週の注文を確認してください。",
	"クロワッサンは朝八時までに焼き上げます。",
	"新しいオーブンの見積もりを依頼しました。",
	"夏のメニューにレモンタルトを追加したいです。",
	"在庫確認は金曜日に行います。",
}

// ---- generated content ----

// demoBlockSize is the unit in which generated content is produced: any block
// can be made on its own, so a reader can seek without generating from the
// start.
const demoBlockSize = 64 << 10

// demoContent is Content generated on demand from a key: random-looking
// bytes (photos, archives, video) or compressible text (documents). Only the
// current block of an open reader is held in memory.
type demoContent struct {
	key    uint64
	size   int64
	text   bool
	prefix string // file signature laid over the first bytes
}

// Size implements Content.
func (c *demoContent) Size() int64 { return c.size }

// Open implements Content.
func (c *demoContent) Open() io.ReadSeeker { return &demoReader{c: c, block: -1} }

var demoBlockPool = sync.Pool{New: func() any { b := make([]byte, demoBlockSize); return &b }}

// fill writes block n of the content into buf (len demoBlockSize).
func (c *demoContent) fill(n int64, buf []byte) {
	r := newDemoRand(demoKey(c.key, uint64(n)))
	if c.text {
		demoFillText(r, buf)
	} else {
		i := 0
		for ; i+8 <= len(buf); i += 8 {
			binary.LittleEndian.PutUint64(buf[i:], r.next())
		}
		for ; i < len(buf); i++ {
			buf[i] = byte(r.next())
		}
	}
	if n == 0 {
		copy(buf, c.prefix)
	}
}

// demoFillText fills buf with lines of words, cut off exactly at the end.
func demoFillText(r *demoRand, buf []byte) {
	i := 0
	for i < len(buf) {
		words := r.between(5, 14)
		for w := 0; w < words && i < len(buf); w++ {
			word := demoWords[r.intn(len(demoWords))]
			if w == 0 && word[0] >= 'a' && word[0] <= 'z' {
				if i < len(buf) {
					buf[i] = word[0] - 'a' + 'A'
					i++
				}
				word = word[1:]
			}
			i += copy(buf[i:], word)
			if w < words-1 && i < len(buf) {
				buf[i] = ' '
				i++
			}
		}
		i += copy(buf[i:], ".\n")
	}
}

type demoReader struct {
	c     *demoContent
	off   int64
	block int64
	buf   *[]byte
}

func (g *demoReader) Read(p []byte) (int, error) {
	if g.off >= g.c.size {
		g.release()
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && g.off < g.c.size {
		b := g.off / demoBlockSize
		if g.buf == nil {
			g.buf = demoBlockPool.Get().(*[]byte)
			g.block = -1
		}
		if b != g.block {
			g.c.fill(b, *g.buf)
			g.block = b
		}
		start := g.off - b*demoBlockSize
		end := int64(demoBlockSize)
		if rest := g.c.size - b*demoBlockSize; rest < end {
			end = rest
		}
		k := copy(p[n:], (*g.buf)[start:end])
		n += k
		g.off += int64(k)
	}
	if g.off >= g.c.size {
		g.release()
	}
	return n, nil
}

// release returns the block buffer to the pool once the reader reached the
// end; a later Seek and Read takes another.
func (g *demoReader) release() {
	if g.buf != nil {
		demoBlockPool.Put(g.buf)
		g.buf = nil
		g.block = -1
	}
}

func (g *demoReader) Seek(offset int64, whence int) (int64, error) {
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = g.off + offset
	case io.SeekEnd:
		abs = g.c.size + offset
	default:
		return g.off, fmt.Errorf("m365sim: invalid whence %d", whence)
	}
	if abs < 0 {
		return g.off, fmt.Errorf("m365sim: negative position %d", abs)
	}
	g.off = abs
	return abs, nil
}

// Close releases the block buffer.
func (g *demoReader) Close() error {
	g.release()
	return nil
}

// demoGenBytes returns generated content in memory, for attachments.
func demoGenBytes(key uint64, size int, text bool, prefix string) []byte {
	c := &demoContent{key: key, size: int64(size), text: text, prefix: prefix}
	out := make([]byte, size)
	for b := 0; b*demoBlockSize < size; b++ {
		end := min((b+1)*demoBlockSize, size)
		if end-b*demoBlockSize == demoBlockSize {
			c.fill(int64(b), out[b*demoBlockSize:end])
			continue
		}
		tmp := make([]byte, demoBlockSize)
		c.fill(int64(b), tmp)
		copy(out[b*demoBlockSize:end], tmp)
	}
	return out
}

// File signatures laid over generated bytes so type sniffers see the format.
const (
	demoSigJPEG = "\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x48\x00\x48\x00\x00"
	demoSigZIP  = "PK\x03\x04\x14\x00\x06\x00\x08\x00"
	demoSigMP4  = "\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41"
	demoSigPDF  = "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
)

// ---- small real formats ----

// demoMakePDF returns a valid one-page PDF showing lines in Helvetica, padded
// with an unreferenced binary stream to roughly pad bytes (a "scan").
func demoMakePDF(lines []string, pad []byte) []byte {
	var b bytes.Buffer
	var offsets []int
	obj := func(body string) {
		offsets = append(offsets, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", len(offsets), body)
	}
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	obj("<< /Type /Catalog /Pages 2 0 R >>")
	obj("<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
	obj("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>")
	var text bytes.Buffer
	text.WriteString("BT\n/F1 11 Tf\n14 TL\n56 780 Td\n")
	for _, l := range lines {
		text.WriteString("(")
		text.WriteString(demoPDFString(l))
		text.WriteString(") '\n")
	}
	text.WriteString("ET\n")
	obj(fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", text.Len(), text.Bytes()))
	obj("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
	if len(pad) > 0 {
		obj(fmt.Sprintf("<< /Type /XObject /Subtype /Image /Width 1 /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8 /Length %d >>\nstream\n%s\nendstream", len(pad), len(pad), pad))
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offsets)+1)
	for _, o := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offsets)+1, xref)
	return b.Bytes()
}

// demoPDFString escapes a PDF literal string; Latin-1 characters become octal
// escapes (WinAnsi agrees with Latin-1 on letters), others '?'.
func demoPDFString(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '(' || r == ')' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '–' || r == '—':
			b.WriteByte('-')
		case r == '€':
			b.WriteString("\\200")
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		case r >= 0xa0 && r <= 0xff:
			fmt.Fprintf(&b, "\\%03o", r)
		default:
			b.WriteByte('?')
		}
	}
	return b.String()
}

// demoMakePNG returns a valid RGB PNG with uncompressed (stored) deflate blocks,
// so the bytes do not depend on a compressor's version.
func demoMakePNG(w, h int, pixel func(x, y int) (r, g, b byte)) []byte {
	raw := make([]byte, 0, h*(1+3*w))
	for y := 0; y < h; y++ {
		raw = append(raw, 0) // filter: none
		for x := 0; x < w; x++ {
			r, g, b := pixel(x, y)
			raw = append(raw, r, g, b)
		}
	}
	var z bytes.Buffer
	z.Write([]byte{0x78, 0x01})
	for i := 0; i < len(raw) || i == 0; {
		n := min(len(raw)-i, 65535)
		final := byte(0)
		if i+n >= len(raw) {
			final = 1
		}
		z.WriteByte(final)
		_ = binary.Write(&z, binary.LittleEndian, uint16(n))
		_ = binary.Write(&z, binary.LittleEndian, ^uint16(n))
		z.Write(raw[i : i+n])
		i += n
		if n == 0 {
			break
		}
	}
	_ = binary.Write(&z, binary.BigEndian, adler32.Checksum(raw))

	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		_ = binary.Write(&b, binary.BigEndian, uint32(len(data)))
		crc := crc32.NewIEEE()
		crc.Write([]byte(typ))
		crc.Write(data)
		b.WriteString(typ)
		b.Write(data)
		_ = binary.Write(&b, binary.BigEndian, crc.Sum32())
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = 8, 2 // 8-bit RGB
	chunk("IHDR", ihdr)
	chunk("IDAT", z.Bytes())
	chunk("IEND", nil)
	return b.Bytes()
}

// demoPNG is a small picture: a gradient with a few coloured discs.
func demoPNG(r *demoRand, w, h int) []byte {
	c1 := [3]int{r.intn(256), r.intn(256), r.intn(256)}
	c2 := [3]int{r.intn(256), r.intn(256), r.intn(256)}
	type disc struct{ x, y, rad int }
	discs := make([]disc, r.between(1, 4))
	for i := range discs {
		discs[i] = disc{r.intn(w), r.intn(h), r.between(w/10+1, w/3+1)}
	}
	return demoMakePNG(w, h, func(x, y int) (byte, byte, byte) {
		t := x + y
		span := w + h
		px := [3]byte{}
		for i := range px {
			px[i] = byte((c1[i]*(span-t) + c2[i]*t) / span)
		}
		for _, d := range discs {
			if (x-d.x)*(x-d.x)+(y-d.y)*(y-d.y) <= d.rad*d.rad {
				return 255 - px[0], 255 - px[1], px[2]
			}
		}
		return px[0], px[1], px[2]
	})
}
