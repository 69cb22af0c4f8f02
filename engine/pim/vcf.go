package pim

import (
	"encoding/base64"
	"io"
	"strings"
	"time"

	"github.com/emersion/go-vcard"
)

// VCFContact is one backed-up contact to export, with its photo.
type VCFContact struct {
	Contact   *Contact
	Photo     []byte
	PhotoType string
}

// WriteVCF writes contacts as vCard 3.0 cards (RFC 2426), the version the
// widest range of address books reads, photos embedded.
func WriteVCF(w io.Writer, contacts []VCFContact) error {
	enc := vcard.NewEncoder(w)
	for _, vc := range contacts {
		if err := enc.Encode(card(vc)); err != nil {
			return err
		}
	}
	return nil
}

func card(vc VCFContact) vcard.Card {
	c := vc.Contact
	card := vcard.Card{}
	card.SetValue(vcard.FieldVersion, "3.0")
	card.SetValue(vcard.FieldUID, c.ID)
	card.SetValue(vcard.FieldFormattedName, c.Name())
	card.SetName(&vcard.Name{FamilyName: c.Surname, GivenName: c.GivenName, AdditionalName: c.MiddleName,
		HonorificPrefix: c.Title, HonorificSuffix: c.Generation})
	if c.NickName != "" {
		card.SetValue(vcard.FieldNickname, c.NickName)
	}
	if c.CompanyName != "" || c.Department != "" {
		card.Set(vcard.FieldOrganization, &vcard.Field{Value: strings.Join([]string{vcardEscape(c.CompanyName), vcardEscape(c.Department)}, ";")})
	}
	if c.JobTitle != "" {
		card.SetValue(vcard.FieldTitle, c.JobTitle)
	}
	for _, e := range c.EmailAddresses {
		if e.Address != "" {
			card.Add(vcard.FieldEmail, &vcard.Field{Value: e.Address, Params: vcard.Params{vcard.ParamType: {"INTERNET"}}})
		}
	}
	tel := func(n, kind string) {
		if n != "" {
			card.Add(vcard.FieldTelephone, &vcard.Field{Value: n, Params: vcard.Params{vcard.ParamType: {kind, "VOICE"}}})
		}
	}
	for _, n := range c.BusinessPhones {
		tel(n, "WORK")
	}
	tel(c.MobilePhone, "CELL")
	for _, n := range c.HomePhones {
		tel(n, "HOME")
	}
	adr := func(a Address, kind string) {
		if !a.empty() {
			card.AddAddress(&vcard.Address{Field: &vcard.Field{Params: vcard.Params{vcard.ParamType: {kind}}},
				StreetAddress: a.Street, Locality: a.City, Region: a.State, PostalCode: a.PostalCode, Country: a.CountryOrRegion})
		}
	}
	adr(c.BusinessAddress, "WORK")
	adr(c.HomeAddress, "HOME")
	adr(c.OtherAddress, "POSTAL")
	if c.Birthday != nil {
		if t, err := time.Parse(time.RFC3339, *c.Birthday); err == nil {
			card.SetValue(vcard.FieldBirthday, t.Format(time.DateOnly))
		}
	}
	if c.BusinessHomePage != "" {
		card.SetValue(vcard.FieldURL, c.BusinessHomePage)
	}
	if c.PersonalNotes != "" {
		card.SetValue(vcard.FieldNote, c.PersonalNotes)
	}
	if len(c.Categories) > 0 {
		card.SetCategories(c.Categories)
	}
	if len(vc.Photo) > 0 {
		typ := strings.ToUpper(strings.TrimPrefix(vc.PhotoType, "image/"))
		if typ == "" {
			typ = "JPEG"
		}
		card.Set(vcard.FieldPhoto, &vcard.Field{Value: base64.StdEncoding.EncodeToString(vc.Photo),
			Params: vcard.Params{"ENCODING": {"b"}, vcard.ParamType: {typ}}})
	}
	return card
}

// vcardEscape escapes the separators of a structured value's component.
func vcardEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`).Replace(s)
}
