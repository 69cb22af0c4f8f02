package ui

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// OffsiteProvider is a storage service the setup offers.
type OffsiteProvider struct {
	ID, Name string
	// EndpointHint is the address, with {region} for the region.
	EndpointHint string
	Regions      []string
	// Notes are facts to know before choosing, in plain words.
	Notes []string
}

// OffsiteConfig is the off-site copy's destination as the owner enters
// it. Secret is only ever sent, never read back ("" keeps the saved one).
type OffsiteConfig struct {
	Provider, Endpoint, Region, Bucket, AccessKeyID, Secret string
	RetentionDays                                           int
}

// OffsiteCheck is what checking the bucket found.
type OffsiteCheck struct {
	Versioning, ObjectLock bool
	Problems, Warnings     []string
}

// OK reports whether the bucket can take the copy.
func (c OffsiteCheck) OK() bool { return len(c.Problems) == 0 }

// Offsite sets up the off-site copy and the drive's eject setting.
type Offsite interface {
	Providers() []OffsiteProvider
	// Current is the saved destination (without its secret); ok is false
	// when none is set up.
	Current(ctx context.Context) (c OffsiteConfig, ok bool, err error)
	// Check checks a destination without saving it.
	Check(ctx context.Context, c OffsiteConfig) (OffsiteCheck, error)
	// Save checks and, when the bucket can take the copy, saves.
	Save(ctx context.Context, c OffsiteConfig) (OffsiteCheck, error)
	EjectAfterBackup() bool
	SetEjectAfterBackup(on bool) error
}

// OffsiteStatus is the off-site copy on the dashboard.
type OffsiteStatus struct {
	// LastCopy is when the last copy finished (zero: none yet).
	LastCopy time.Time
	// Problem is the last attempt's failure, "" when it worked.
	Problem string
}

// AlarmAlert is an open alarm for mass deletion or encryption.
type AlarmAlert struct {
	ID string
	// Text says what happened and which backup to restore, in plain words.
	Text string
	// Before is the last backup from before the change, of Kind.
	Before time.Time
	Kind   ItemKind
}

// Alarm closes alerts once the owner has looked.
type Alarm interface {
	Acknowledge(ctx context.Context, id string) error
}

// OffsiteView is the off-site copy screen (Settings › Off-site copy).
type OffsiteView struct {
	env Env
	o   Offsite

	Provider  *widget.Select
	Endpoint  *widget.Entry
	Region    *widget.SelectEntry
	Bucket    *widget.Entry
	AccessKey *widget.Entry
	Secret    *widget.Entry
	Days      *widget.Entry
	Notes     *widget.Label
	Check     *widget.Button
	Save      *widget.Button
	Result    *widget.Label
	// Advice lists what would make the bucket safer (warnings).
	Advice    *widget.Label
	Saved     *widget.Label
	content   fyne.CanvasObject
	providers []OffsiteProvider
	// OnSaved is called after the destination was saved.
	OnSaved func()
}

// NewOffsiteView builds the screen; Load fills it with the saved choice.
func NewOffsiteView(env Env, o Offsite) *OffsiteView {
	v := &OffsiteView{env: env, o: o, providers: o.Providers()}
	var names []string
	for _, p := range v.providers {
		names = append(names, p.Name)
	}
	v.Endpoint = widget.NewEntry()
	v.Region = widget.NewSelectEntry(nil)
	v.Bucket = widget.NewEntry()
	v.Bucket.SetPlaceHolder("the bucket you created, with Object Lock on")
	v.AccessKey = widget.NewEntry()
	v.Secret = widget.NewPasswordEntry()
	v.Secret.SetPlaceHolder("kept in this computer's keychain")
	v.Days = widget.NewEntry()
	v.Days.SetText("30")
	v.Days.Validator = func(t string) error {
		if n, err := strconv.Atoi(strings.TrimSpace(t)); err != nil || n < 1 || n > 3650 {
			return errors.New("a number of days from 1 to 3650")
		}
		return nil
	}
	v.Notes = para("")
	v.Provider = widget.NewSelect(names, v.providerChosen)
	v.Result = para("")
	v.Advice = para("")
	v.Advice.Importance = widget.WarningImportance
	v.Advice.Hide()
	v.Saved = para("")
	v.Saved.TextStyle = fyne.TextStyle{Bold: true}
	v.Check = widget.NewButtonWithIcon("Check", theme.SearchIcon(), func() { v.run(false) })
	v.Save = widget.NewButtonWithIcon("Check and save", theme.DocumentSaveIcon(), func() { v.run(true) })
	v.Save.Importance = widget.HighImportance
	form := widget.NewForm(
		widget.NewFormItem("Storage service", v.Provider),
		widget.NewFormItem("Address", v.Endpoint),
		widget.NewFormItem("Region", v.Region),
		widget.NewFormItem("Bucket", v.Bucket),
		widget.NewFormItem("Access key ID", v.AccessKey),
		widget.NewFormItem("Secret key", v.Secret),
		widget.NewFormItem("Keep locked for (days)", v.Days))
	v.content = container.NewVBox(
		para("A second copy of your backup, in online storage, that nobody can delete or change for the number of days you choose — "+
			"not ransomware, not a thief of this computer, not even Lifeboat. After each backup, what is new is copied there and checked."),
		v.Saved, form, v.Notes, container.NewHBox(v.Check, v.Save), v.Result, v.Advice)
	if len(names) > 0 {
		v.Provider.SetSelectedIndex(0)
	}
	return v
}

// Content is the screen's canvas object.
func (v *OffsiteView) Content() fyne.CanvasObject { return v.content }

func (v *OffsiteView) provider(name string) (OffsiteProvider, bool) {
	for _, p := range v.providers {
		if p.Name == name || p.ID == name {
			return p, true
		}
	}
	return OffsiteProvider{}, false
}

// providerChosen fills the address and regions of the chosen service.
func (v *OffsiteView) providerChosen(name string) {
	p, _ := v.provider(name)
	v.Region.SetOptions(p.Regions)
	region := v.Region.Text
	if len(p.Regions) > 0 && !containsString(p.Regions, region) {
		region = p.Regions[0]
		v.Region.SetText(region)
	}
	v.Endpoint.SetPlaceHolder(strings.ReplaceAll(p.EndpointHint, "{region}", "REGION"))
	if strings.Contains(p.EndpointHint, "{region}") {
		v.Endpoint.SetText(strings.ReplaceAll(p.EndpointHint, "{region}", region))
	}
	v.Notes.SetText(strings.Join(p.Notes, "\n"))
	setVisible(v.Notes, len(p.Notes) > 0)
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Load shows the saved destination, if any.
func (v *OffsiteView) Load() {
	go func() {
		c, ok, err := v.o.Current(context.Background())
		v.env.do(func() {
			switch {
			case err != nil:
				v.Saved.SetText("Cannot read the off-site settings: " + err.Error())
			case !ok:
				v.Saved.SetText("No off-site copy is set up yet.")
			default:
				if p, found := v.provider(c.Provider); found {
					v.Provider.SetSelected(p.Name)
				}
				v.Endpoint.SetText(c.Endpoint)
				v.Region.SetText(c.Region)
				v.Bucket.SetText(c.Bucket)
				v.AccessKey.SetText(c.AccessKeyID)
				v.Days.SetText(strconv.Itoa(c.RetentionDays))
				v.Secret.SetPlaceHolder("saved in this computer's keychain (type to change it)")
				v.Saved.SetText(fmt.Sprintf("In use: each backup is copied to %s and locked there for %s.", c.Bucket, plural(c.RetentionDays, "day")))
			}
		})
	}()
}

// Config reads the form.
func (v *OffsiteView) Config() (OffsiteConfig, error) {
	if err := v.Days.Validate(); err != nil {
		return OffsiteConfig{}, err
	}
	days, _ := strconv.Atoi(strings.TrimSpace(v.Days.Text))
	p, _ := v.provider(v.Provider.Selected)
	c := OffsiteConfig{Provider: p.ID, Endpoint: strings.TrimSpace(v.Endpoint.Text), Region: strings.TrimSpace(v.Region.Text),
		Bucket: strings.TrimSpace(v.Bucket.Text), AccessKeyID: strings.TrimSpace(v.AccessKey.Text), Secret: v.Secret.Text, RetentionDays: days}
	switch {
	case c.Endpoint == "":
		return c, errors.New("enter the storage service's address")
	case c.Bucket == "":
		return c, errors.New("enter the bucket's name")
	case c.AccessKeyID == "":
		return c, errors.New("enter the access key ID")
	}
	return c, nil
}

// run checks the form's bucket, and saves it when save is set.
func (v *OffsiteView) run(save bool) {
	c, err := v.Config()
	if err != nil {
		v.Result.Importance = widget.DangerImportance
		v.Result.SetText(capitalFirst(err.Error()) + ".")
		return
	}
	v.Check.Disable()
	v.Save.Disable()
	v.Result.Importance = widget.MediumImportance
	v.Result.SetText("Checking the bucket…")
	v.Advice.Hide()
	go func() {
		var chk OffsiteCheck
		var err error
		if save {
			chk, err = v.o.Save(context.Background(), c)
		} else {
			chk, err = v.o.Check(context.Background(), c)
		}
		v.env.do(func() {
			v.Check.Enable()
			v.Save.Enable()
			v.showCheck(chk, err, save)
			if save && err == nil && chk.OK() {
				v.Secret.SetText("")
				v.Load()
				if v.OnSaved != nil {
					v.OnSaved()
				}
			}
		})
	}()
}

func (v *OffsiteView) showCheck(chk OffsiteCheck, err error, saved bool) {
	if err != nil {
		v.Result.Importance = widget.DangerImportance
		v.Result.SetText("The check did not work: " + err.Error())
		v.Advice.Hide()
		return
	}
	yes := func(b bool) string {
		if b {
			return "on"
		}
		return "off"
	}
	lines := []string{"Versioning is " + yes(chk.Versioning) + ". Object Lock is " + yes(chk.ObjectLock) + "."}
	switch {
	case !chk.OK():
		v.Result.Importance = widget.DangerImportance
		lines = append(lines, chk.Problems...)
		lines = append(lines, "This bucket cannot take the off-site copy yet; nothing was saved.")
	case saved:
		v.Result.Importance = widget.SuccessImportance
		lines = append(lines, "All set: the next backup is copied there, and locked.")
	default:
		v.Result.Importance = widget.SuccessImportance
		lines = append(lines, "This bucket can take the off-site copy. Click Check and save to use it.")
	}
	v.Result.SetText(strings.Join(lines, "\n"))
	advice := ""
	if len(chk.Warnings) > 0 {
		advice = "Could be safer (show this to whoever made the keys):\n• " + strings.Join(chk.Warnings, "\n• ")
	}
	v.Advice.SetText(advice)
	setVisible(v.Advice, advice != "")
}

func capitalFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// ejectCheck is the Backup drive page's "eject after each backup" box.
func ejectCheck(o Offsite, onErr func(error)) *widget.Check {
	c := widget.NewCheck("Eject the drive after each scheduled backup, so nothing can reach it in between (plug it in again before the next one)", nil)
	if o == nil {
		c.Hide()
		return c
	}
	c.SetChecked(o.EjectAfterBackup())
	c.OnChanged = func(on bool) {
		if err := o.SetEjectAfterBackup(on); err != nil && onErr != nil {
			onErr(err)
		}
	}
	return c
}
