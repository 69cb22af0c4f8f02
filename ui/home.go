package ui

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Account is one person whose mail and files Lifeboat can see.
type Account struct {
	Name     string
	Email    string
	Messages int
	Files    int
}

// TenantInfo is what the start screen shows about the connected tenant.
type TenantInfo struct {
	Name     string
	Demo     bool
	Accounts []Account
}

// Home is the start screen until the setup wizard and dashboard arrive:
// it says what Lifeboat is and what it is connected to.
func Home(info TenantInfo) fyne.CanvasObject {
	title := widget.NewLabelWithStyle("Lifeboat", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.SizeName = theme.SizeNameHeadingText
	intro := widget.NewLabel("Lifeboat keeps a copy of your company's emails and OneDrive files on a drive you own, " +
		"and brings back anything that was deleted in a few clicks.")
	intro.Wrapping = fyne.TextWrapWord

	where := "Connected to " + info.Name
	if info.Demo {
		where = "Demo mode: a built-in practice company (" + info.Name + "). Nothing here touches real Microsoft 365 data."
	}
	status := widget.NewLabel(where)
	status.Wrapping = fyne.TextWrapWord
	status.Importance = widget.HighImportance

	rows := container.NewVBox()
	for _, a := range info.Accounts {
		line := widget.NewLabel(fmt.Sprintf("%s (%s): %d emails, %d files", a.Name, a.Email, a.Messages, a.Files))
		rows.Add(container.NewHBox(widget.NewIcon(theme.AccountIcon()), line))
	}
	people := widget.NewCard("People", fmt.Sprintf("%d accounts", len(info.Accounts)), rows)

	return container.NewPadded(container.NewVBox(title, intro, status, people))
}
