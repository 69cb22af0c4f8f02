package people

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/secret"
)

// Why a person is marked as having left the company.
const (
	LeftDeleted   = "deleted from your company's Microsoft 365"
	LeftPurged    = "deleted from your company's Microsoft 365 for good"
	LeftDisabled  = "their account was turned off"
	LeftUnlicense = "their Microsoft 365 licence was removed"
	LeftShared    = "their mailbox was turned into a shared mailbox"
)

// Microsoft keeps a deleted user's mailbox this long (then it goes unless
// it is on hold); a deleted user's OneDrive per the company's retention
// setting, 30 days unless changed.
// https://learn.microsoft.com/microsoft-365/admin/add-users/delete-a-user
const (
	DeletedMailboxKept = 30 * 24 * time.Hour
	DeletedDriveKept   = 30 * 24 * time.Hour
)

// Person is someone Lifeboat protects or protected.
type Person struct {
	ID          string    `json:"id"`
	UPN         string    `json:"upn"`
	DisplayName string    `json:"name,omitempty"`
	Purpose     Purpose   `json:"purpose,omitempty"`
	DriveID     string    `json:"driveID,omitempty"`
	Enabled     bool      `json:"enabled"`
	Licensed    bool      `json:"licensed"`
	FirstSeen   time.Time `json:"firstSeen"`
	LastSeen    time.Time `json:"lastSeen"`
	// Left is when Lifeboat noticed (or Microsoft says) the person left;
	// LeftReason says how.
	Left       time.Time `json:"left,omitzero"`
	LeftReason string    `json:"leftReason,omitempty"`
	// Gone: Microsoft no longer lists the person at all (deleted).
	Gone bool `json:"gone,omitempty"`
	// Excluded by the owner: not backed up (their copies stay).
	Excluded bool `json:"excluded,omitempty"`
}

// Departed reports whether the person left the company.
func (p Person) Departed() bool { return !p.Left.IsZero() }

// Nothing reports whether there is nothing to back up (no mailbox, no
// OneDrive).
func (p Person) Nothing() bool { return p.Purpose == NoMailbox && p.DriveID == "" }

// MicrosoftKeepsUntil is, for a deleted person, the last day Microsoft
// still serves their mailbox (zero for others): after it, Lifeboat's copy
// is the only one.
func (p Person) MicrosoftKeepsUntil() time.Time {
	if !p.Gone || p.Left.IsZero() {
		return time.Time{}
	}
	return p.Left.Add(DeletedMailboxKept)
}

// Roster is everyone Lifeboat knows in the company, by user ID.
type Roster struct {
	People map[string]*Person `json:"people"`
}

// Observed is what one look at the directory found: listed users with
// their mailbox kind and OneDrive, and the deleted users Microsoft keeps.
type Observed struct {
	Listed  []Observation
	Deleted []User
}

// Observation is a listed user with what their mailbox and drive are.
type Observation struct {
	User
	Purpose Purpose
	DriveID string
}

// Changes is what Update noticed.
type Changes struct {
	New, Left []string // user IDs
}

// Update merges a look at the directory into the roster at now: new
// people are added (and so backed up from this run on), known ones
// refreshed, and people who left are marked with the date and reason. A
// person marked as left stays marked (and stays in the roster) whatever
// happens next, unless they come back enabled and licensed as a user.
func (r *Roster) Update(now time.Time, o Observed) Changes {
	if r.People == nil {
		r.People = map[string]*Person{}
	}
	var ch Changes
	listed := map[string]bool{}
	for _, ob := range o.Listed {
		listed[ob.ID] = true
		p, known := r.People[ob.ID]
		if !known {
			p = &Person{ID: ob.ID, FirstSeen: now}
			r.People[ob.ID] = p
			ch.New = append(ch.New, ob.ID)
		}
		wasUser := known && p.Purpose == PurposeUser && p.Enabled && p.Licensed
		p.UPN, p.DisplayName, p.Enabled, p.Licensed = ob.UPN, ob.DisplayName, ob.Enabled, ob.Licensed
		p.Purpose, p.LastSeen, p.Gone = ob.Purpose, now, false
		if ob.DriveID != "" {
			p.DriveID = ob.DriveID // kept once known: a deleted user's drive may outlive the listing
		}
		reason := ""
		switch {
		case wasUser && ob.Purpose == PurposeShared:
			reason = LeftShared
		case wasUser && !ob.Enabled:
			reason = LeftDisabled
		case wasUser && !ob.Licensed:
			reason = LeftUnlicense
		}
		if reason != "" && !p.Departed() {
			p.Left, p.LeftReason = now, reason
			ch.Left = append(ch.Left, p.ID)
		}
		if p.Departed() && !p.Gone && ob.Purpose == PurposeUser && ob.Enabled && ob.Licensed {
			p.Left, p.LeftReason = time.Time{}, "" // came back
		}
	}
	deleted := map[string]User{}
	for _, u := range o.Deleted {
		deleted[u.ID] = u
	}
	for id, p := range r.People {
		if listed[id] {
			continue
		}
		if p.Gone && p.Departed() {
			continue
		}
		p.Gone = true
		if u, ok := deleted[id]; ok {
			when := u.Deleted
			if when.IsZero() || when.After(now) {
				when = now
			}
			p.Left, p.LeftReason = when, LeftDeleted
		} else {
			p.Left, p.LeftReason = now, LeftPurged
		}
		ch.Left = append(ch.Left, id)
	}
	return ch
}

// Sorted lists the people by display name, then address.
func (r *Roster) Sorted() []Person {
	out := make([]Person, 0, len(r.People))
	for _, p := range r.People {
		out = append(out, *p)
	}
	slices.SortFunc(out, func(a, b Person) int {
		if c := strings.Compare(strings.ToLower(a.DisplayName), strings.ToLower(b.DisplayName)); c != 0 {
			return c
		}
		return strings.Compare(strings.ToLower(a.UPN), strings.ToLower(b.UPN))
	})
	return out
}

// Find finds a person by ID, address or display name (any case).
func (r *Roster) Find(key string) (*Person, bool) {
	if p, ok := r.People[key]; ok {
		return p, true
	}
	for _, p := range r.People {
		if strings.EqualFold(p.UPN, key) || strings.EqualFold(p.DisplayName, key) {
			return p, true
		}
	}
	return nil, false
}

// LoadRoster reads a roster file; a missing file is an empty roster.
func LoadRoster(path string) (Roster, error) {
	var r Roster
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Roster{People: map[string]*Person{}}, nil
	}
	if err != nil {
		return r, fmt.Errorf("read the list of people: %w", err)
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("read the list of people (%s): %w", path, err)
	}
	if r.People == nil {
		r.People = map[string]*Person{}
	}
	return r, nil
}

// SaveRoster writes the roster atomically.
func SaveRoster(path string, r Roster) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := secret.WriteFileAtomic(path, b); err != nil {
		return fmt.Errorf("save the list of people: %w", err)
	}
	return nil
}
