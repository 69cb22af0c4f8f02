package teamsexport

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/lifeboat-backup/lifeboat/engine/backup"
)

func raw(t *testing.T, m map[string]any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestHostileBodiesComeOutHarmless: message bodies, names and links are
// outside input; whatever they hold, the page has no script, no event
// handler, no style or remote resource, and the text stays readable.
func TestHostileBodiesComeOutHarmless(t *testing.T) {
	bodies := []string{
		`<script>alert(1)</script>visible one`,
		`<scr<script>ipt>alert(2)</script>visible two`,
		`<img src="x" onerror="alert(3)">visible three`,
		`<a href="javascript:alert(4)">visible four</a>`,
		`<p style="background:url(https://evil.example/t.png)" onclick="alert(5)">visible five</p>`,
		`<iframe src="https://evil.example"></iframe><svg onload="alert(6)"><circle/></svg>visible six`,
		`<p title="><script>alert(7)</script>">visible seven</p>`,
		`<script>unclosed alert(8)`,
		`&lt;script&gt;alert(9)&lt;/script&gt; visible nine`,
		`<link rel="stylesheet" href="https://evil.example/x.css"><meta http-equiv="refresh" content="0;url=https://evil.example">visible ten`,
	}
	img := "https://graph.microsoft.com/v1.0/teams/t/channels/c/messages/1/hostedContents/h/$value"
	var th backup.Thread
	th.Images = map[string]string{img: base64.StdEncoding.EncodeToString([]byte("\x89PNG\r\n"))}
	for i, b := range bodies {
		m := map[string]any{"id": string(rune('a' + i)), "createdDateTime": "2026-01-02T10:00:00.000Z",
			"from": map[string]any{"user": map[string]any{"displayName": `<b onmouseover="alert(10)">Mallory</b>`}},
			"body": map[string]any{"contentType": "html", "content": b + `<img src="` + img + `">`},
			"attachments": []any{
				map[string]any{"contentType": "reference", "name": `evil"><script>alert(11)</script>.docx`, "contentUrl": "javascript:alert(12)"},
				map[string]any{"contentType": "reference", "name": "plan.docx", "contentUrl": `https://contoso.sharepoint.com/a"onmouseover="alert(13)`},
			},
			"reactions": []any{map[string]any{"reactionType": `<script>alert(14)</script>`}},
		}
		if i == 0 {
			th.Message = raw(t, m)
		} else {
			m["replyToId"] = "a"
			th.Replies = append(th.Replies, raw(t, m))
		}
	}
	var out bytes.Buffer
	cnt, err := Write(&out, Channel{Team: `<script>alert(15)</script>`, Name: "General", Threads: []backup.Thread{th}})
	if err != nil {
		t.Fatal(err)
	}
	if cnt.Messages != 1 || cnt.Replies != len(bodies)-1 {
		t.Errorf("counts %+v", cnt)
	}
	page := out.String()
	lower := strings.ToLower(page)
	for _, bad := range []string{"<script", "onerror", "onclick", "onload", `onmouseover="`, "javascript:", "<iframe", "<svg", "<link", "evil.example/t.png", `http-equiv="refresh"`, " style="} {
		if strings.Contains(lower, bad) {
			t.Errorf("the page holds %q", bad)
		}
	}
	for _, want := range []string{"visible one", "visible two", "visible three", "visible four", "visible five", "visible six", "visible seven", "visible ten",
		"&lt;script&gt;alert(9)&lt;/script&gt; visible nine", "data:image/png;base64,", "Mallory"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if n := strings.Count(page, "<script"); n != 0 {
		t.Errorf("%d scripts", n)
	}
}
