package teamsexport

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/lifeboat-backup/lifeboat/engine/backup"
)

// WriteGroup writes a group mailbox's conversations as one page (threads
// in the order they started, posts in the order they came) and returns
// how many threads and posts it holds.
func WriteGroup(w io.Writer, name string, threads []backup.GroupThread) (Counts, error) {
	var c Counts
	var b strings.Builder
	title := name + " — conversations"
	fmt.Fprintf(&b, page, esc(title), esc(title), esc(fmt.Sprintf("%d conversations, exported from a Lifeboat backup.", len(threads))))
	for _, th := range threads {
		fmt.Fprintf(&b, `<div class="thread"><div class="subject">%s</div>`, esc(th.Topic))
		c.Messages++
		for i, raw := range th.Posts {
			var p backup.GroupPostInfo
			if json.Unmarshal(raw, &p) != nil || p.ID == "" {
				continue
			}
			c.Replies++
			cls := "msg"
			if i > 0 {
				cls += " reply"
			}
			who := p.From.EmailAddress.Name
			if who == "" {
				who = p.From.EmailAddress.Address
			}
			fmt.Fprintf(&b, `<div class="%s" data-id="%s"><span class="who">%s</span><span class="when">%s</span><div class="body">%s</div></div>`+"\n",
				cls, esc(p.ID), esc(who), esc(p.Received.Local().Format("Mon 2 Jan 2006 15:04")), sanitize(p.Body.Content, p.Body.ContentType, nil))
		}
		b.WriteString("</div>\n")
	}
	b.WriteString("</body></html>\n")
	_, err := io.WriteString(w, b.String())
	return c, err
}
