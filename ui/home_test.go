package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

func labels(o fyne.CanvasObject) []string {
	var out []string
	var walk func(fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		switch v := o.(type) {
		case *widget.Label:
			out = append(out, v.Text)
		case *widget.Card:
			out = append(out, v.Title, v.Subtitle)
			if v.Content != nil {
				walk(v.Content)
			}
			return
		case *fyne.Container:
			for _, c := range v.Objects {
				walk(c)
			}
		}
	}
	walk(o)
	return out
}

func TestHomeShowsDemoTenantAndAccounts(t *testing.T) {
	test.NewTempApp(t)
	info := TenantInfo{Name: "Contoso Bakery", Demo: true, Accounts: []Account{
		{Name: "Paul Baker", Email: "paul@contoso.test", Messages: 1200, Files: 80},
		{Name: "Ann Lee", Email: "ann@contoso.test", Messages: 3, Files: 0},
	}}
	w := test.NewWindow(Home(info))
	defer w.Close()
	text := strings.Join(labels(w.Content()), "\n")
	for _, want := range []string{"Demo mode", "Contoso Bakery", "Paul Baker (paul@contoso.test): 1200 emails, 80 files", "2 accounts"} {
		if !strings.Contains(text, want) {
			t.Errorf("home screen lacks %q; it shows:\n%s", want, text)
		}
	}
}

func TestHomeRealTenantIsNotCalledDemo(t *testing.T) {
	test.NewTempApp(t)
	text := strings.Join(labels(Home(TenantInfo{Name: "Fabrikam"})), "\n")
	if strings.Contains(text, "Demo") {
		t.Errorf("a real tenant is labelled demo:\n%s", text)
	}
	if !strings.Contains(text, "Connected to Fabrikam") {
		t.Errorf("tenant name missing:\n%s", text)
	}
}
