package teamsexport

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/backup"
)

// Channel is what an export shows of a channel.
type Channel struct {
	Team, Name string
	Threads    []backup.Thread
}

// Counts says how many messages and replies a channel export holds.
type Counts struct{ Messages, Replies int }

const page = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<title>%s</title>
<style>
body{font-family:system-ui,sans-serif;max-width:52em;margin:2em auto;color:#222;background:#fafafa}
.thread{background:#fff;border:1px solid #ddd;border-radius:6px;margin:1em 0;padding:.6em 1em}
.msg{margin:.4em 0}.reply{margin-left:2em;border-left:3px solid #c8c8e8;padding-left:.8em}
.who{font-weight:bold}.when{color:#666;font-size:.85em;margin-left:.5em}
.subject{font-size:1.1em;font-weight:bold}.mention{background:#e8e8ff;border-radius:3px;padding:0 .2em}
.reactions,.files{font-size:.85em;color:#444}img{max-width:100%%}
</style></head><body>
<h1>%s</h1>
<p>%s</p>
`

// Write writes the channel's conversation as HTML and returns its counts.
func Write(w io.Writer, ch Channel) (Counts, error) {
	var c Counts
	title := ch.Team + " — " + ch.Name
	threads := append([]backup.Thread(nil), ch.Threads...)
	sort.SliceStable(threads, func(i, j int) bool { return created(threads[i].Message).Before(created(threads[j].Message)) })
	var b strings.Builder
	fmt.Fprintf(&b, page, esc(title), esc(title), esc(fmt.Sprintf("%d conversations, exported from a Lifeboat backup.", len(threads))))
	for _, th := range threads {
		b.WriteString(`<div class="thread">`)
		if writeMessage(&b, th.Message, th.Images, false) {
			c.Messages++
		}
		for _, r := range th.Replies {
			if writeMessage(&b, r, th.Images, true) {
				c.Replies++
			}
		}
		b.WriteString("</div>\n")
	}
	b.WriteString("</body></html>\n")
	_, err := io.WriteString(w, b.String())
	return c, err
}

func created(raw json.RawMessage) time.Time {
	var m backup.ChatMessageInfo
	_ = json.Unmarshal(raw, &m)
	return m.Created
}

func esc(s string) string { return html.EscapeString(s) }

func writeMessage(b *strings.Builder, raw json.RawMessage, images map[string]string, reply bool) bool {
	var m backup.ChatMessageInfo
	if json.Unmarshal(raw, &m) != nil || m.ID == "" {
		return false
	}
	cls := "msg"
	if reply {
		cls += " reply"
	}
	fmt.Fprintf(b, `<div class="%s" data-id="%s">`, cls, esc(m.ID))
	if m.Subject != "" && !reply {
		fmt.Fprintf(b, `<div class="subject">%s</div>`, esc(m.Subject))
	}
	who := m.Author()
	if who == "" {
		who = "Someone"
	}
	fmt.Fprintf(b, `<span class="who">%s</span><span class="when">%s</span>`, esc(who), esc(m.Created.Local().Format("Mon 2 Jan 2006 15:04")))
	if m.Deleted != nil {
		b.WriteString(`<div class="body"><em>This message was deleted.</em></div>`)
	} else {
		fmt.Fprintf(b, `<div class="body">%s</div>`, sanitize(m.Body.Content, m.Body.ContentType, images))
	}
	var files []string
	for _, a := range m.Attachments {
		if a.ContentType != "reference" || a.Name == "" {
			continue
		}
		link := esc(a.Name)
		if u, err := url.Parse(a.ContentURL); err == nil && (u.Scheme == "https" || u.Scheme == "http") {
			link = fmt.Sprintf(`<a href="%s" rel="noreferrer">%s</a>`, esc(u.String()), esc(a.Name))
		}
		files = append(files, link)
	}
	if len(files) > 0 {
		fmt.Fprintf(b, `<div class="files">Files: %s</div>`, strings.Join(files, ", "))
	}
	if len(m.Reactions) > 0 {
		var rs []string
		for _, r := range m.Reactions {
			n := ""
			if r.User.User != nil {
				n = r.User.User.DisplayName
			}
			s := r.ReactionType
			if n != "" {
				s += " (" + n + ")"
			}
			rs = append(rs, esc(s))
		}
		fmt.Fprintf(b, `<div class="reactions">Reactions: %s</div>`, strings.Join(rs, ", "))
	}
	b.WriteString("</div>\n")
	return true
}

var (
	tagRE  = regexp.MustCompile(`(?s)<(/?)([a-zA-Z0-9]+)([^<>]*)>`)
	srcRE  = regexp.MustCompile(`(?i)\ssrc\s*=\s*"([^"]*)"`)
	dropRE = regexp.MustCompile(`(?is)<(script|style|iframe|object|embed|template|svg|math)\b.*?</(script|style|iframe|object|embed|template|svg|math)\s*>`)
)

// allowed are the tags kept (without any attribute); everything else is
// dropped, its text kept.
var allowed = map[string]string{"p": "p", "div": "div", "br": "br", "b": "b", "strong": "strong", "i": "i", "em": "em", "u": "u",
	"s": "s", "ul": "ul", "ol": "ol", "li": "li", "blockquote": "blockquote", "pre": "pre", "code": "code", "span": "span", "h1": "h3", "h2": "h3", "h3": "h3"}

// sanitize turns a message body into harmless HTML: text is escaped,
// a few formatting tags are rebuilt without attributes, mentions are
// marked, inline images the backup kept become data: images, every other
// tag (and any script or style with its content) is gone.
func sanitize(body, contentType string, images map[string]string) string {
	if !strings.EqualFold(contentType, "html") {
		return strings.ReplaceAll(esc(body), "\n", "<br>")
	}
	body = dropRE.ReplaceAllString(body, "")
	var b strings.Builder
	last := 0
	for _, loc := range tagRE.FindAllStringSubmatchIndex(body, -1) {
		b.WriteString(escText(body[last:loc[0]]))
		last = loc[1]
		closing := body[loc[2]:loc[3]] == "/"
		name := strings.ToLower(body[loc[4]:loc[5]])
		attrs := body[loc[6]:loc[7]]
		switch {
		case name == "at":
			if closing {
				b.WriteString("</span>")
			} else {
				b.WriteString(`<span class="mention">@`)
			}
		case name == "img" && !closing:
			if sm := srcRE.FindStringSubmatch(attrs); sm != nil {
				if data, ok := images[html.UnescapeString(sm[1])]; ok {
					fmt.Fprintf(&b, `<img alt="image" src="data:image/png;base64,%s">`, strings.Map(base64Only, data))
					continue
				}
			}
			b.WriteString("[image not kept]")
		case allowed[name] != "":
			if closing {
				fmt.Fprintf(&b, "</%s>", allowed[name])
			} else {
				fmt.Fprintf(&b, "<%s>", allowed[name])
			}
		}
	}
	b.WriteString(escText(body[last:]))
	return b.String()
}

// escText escapes text between tags: entities Teams wrote are decoded
// first, so they are not escaped twice, and every < > & " ' comes out
// escaped.
func escText(s string) string { return esc(html.UnescapeString(s)) }

func base64Only(r rune) rune {
	if r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '+' || r == '/' || r == '=' {
		return r
	}
	return -1
}
