package pim

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Address is Graph's physicalAddress.
type Address struct {
	Street          string `json:"street,omitempty"`
	City            string `json:"city,omitempty"`
	State           string `json:"state,omitempty"`
	CountryOrRegion string `json:"countryOrRegion,omitempty"`
	PostalCode      string `json:"postalCode,omitempty"`
}

func (a Address) empty() bool { return a == Address{} }

// Contact is a contact as Graph serves it (the parts Lifeboat uses).
type Contact struct {
	ID               string         `json:"id"`
	ChangeKey        string         `json:"changeKey"`
	ParentFolderID   string         `json:"parentFolderId"`
	DisplayName      string         `json:"displayName"`
	GivenName        string         `json:"givenName"`
	MiddleName       string         `json:"middleName"`
	Surname          string         `json:"surname"`
	NickName         string         `json:"nickName"`
	Title            string         `json:"title"`
	Generation       string         `json:"generation"`
	EmailAddresses   []EmailAddress `json:"emailAddresses"`
	ImAddresses      []string       `json:"imAddresses"`
	JobTitle         string         `json:"jobTitle"`
	CompanyName      string         `json:"companyName"`
	Department       string         `json:"department"`
	OfficeLocation   string         `json:"officeLocation"`
	BusinessHomePage string         `json:"businessHomePage"`
	HomePhones       []string       `json:"homePhones"`
	MobilePhone      string         `json:"mobilePhone"`
	BusinessPhones   []string       `json:"businessPhones"`
	HomeAddress      Address        `json:"homeAddress"`
	BusinessAddress  Address        `json:"businessAddress"`
	OtherAddress     Address        `json:"otherAddress"`
	PersonalNotes    string         `json:"personalNotes"`
	Categories       []string       `json:"categories"`
	Birthday         *string        `json:"birthday"`
	Modified         time.Time      `json:"lastModifiedDateTime"`

	raw map[string]json.RawMessage
}

// contactWritable are the contact properties a restore posts back: what
// Graph's contact resource lets a client set.
var contactWritable = []string{
	"givenName", "middleName", "surname", "displayName", "nickName", "title", "generation", "initials", "fileAs",
	"emailAddresses", "imAddresses", "jobTitle", "companyName", "department", "officeLocation", "profession",
	"businessHomePage", "assistantName", "manager", "homePhones", "mobilePhone", "businessPhones", "homeAddress",
	"businessAddress", "otherAddress", "spouseName", "personalNotes", "children", "categories", "birthday",
	"yomiGivenName", "yomiSurname", "yomiCompanyName",
}

// ParseContact reads a contact's JSON as Graph served it.
func ParseContact(raw []byte) (*Contact, error) {
	if len(raw) > MaxItemJSON {
		return nil, fmt.Errorf("%w: %d bytes is more than the %d MiB a contact may have", ErrInvalid, len(raw), MaxItemJSON>>20)
	}
	var c Contact
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if err := json.Unmarshal(raw, &c.raw); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if c.ID == "" {
		return nil, fmt.Errorf("%w: the contact has no id", ErrInvalid)
	}
	if len(c.EmailAddresses)+len(c.ImAddresses)+len(c.HomePhones)+len(c.BusinessPhones)+len(c.Categories) > maxListItems {
		return nil, fmt.Errorf("%w: the contact has too many addresses or phone numbers", ErrInvalid)
	}
	return &c, nil
}

// Name is the contact's display name, or a name made of its parts.
func (c *Contact) Name() string {
	if n := strings.TrimSpace(c.DisplayName); n != "" {
		return n
	}
	if n := strings.Join(strings.Fields(c.GivenName+" "+c.MiddleName+" "+c.Surname), " "); n != "" {
		return n
	}
	if len(c.EmailAddresses) > 0 {
		return c.EmailAddresses[0].Address
	}
	return c.CompanyName
}

// LastModified is when the contact last changed.
func (c *Contact) LastModified() time.Time { return c.Modified }

// Phones lists every phone number.
func (c *Contact) Phones() []string {
	out := append([]string(nil), c.BusinessPhones...)
	if c.MobilePhone != "" {
		out = append(out, c.MobilePhone)
	}
	return append(out, c.HomePhones...)
}

// SearchText is what the catalog indexes beside the name and addresses.
func (c *Contact) SearchText() string {
	parts := []string{c.CompanyName, c.JobTitle, c.Department, c.OfficeLocation, strings.Join(c.Phones(), " "), c.PersonalNotes}
	for _, a := range []Address{c.BusinessAddress, c.HomeAddress, c.OtherAddress} {
		parts = append(parts, a.Street, a.City, a.PostalCode, a.CountryOrRegion)
	}
	return strings.Join(strings.Fields(strings.Join(parts, " ")), " ")
}

// RestoreBody is the JSON a restore posts to create the contact again:
// its writable properties exactly as they were backed up.
func (c *Contact) RestoreBody() map[string]any {
	out := map[string]any{}
	for _, k := range contactWritable {
		if v, ok := c.raw[k]; ok && string(v) != "null" {
			out[k] = v
		}
	}
	if _, ok := out["displayName"]; !ok {
		out["displayName"] = c.Name()
	}
	return out
}
