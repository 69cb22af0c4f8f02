package service

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"

	"github.com/lifeboat-backup/lifeboat/engine/auth"
	"github.com/lifeboat-backup/lifeboat/engine/people"
)

// PeopleFile is the list of the company's people in the config folder.
const PeopleFile = "company-people.json"

func (s *Service) peoplePath() string { return filepath.Join(s.o.ConfigDir, PeopleFile) }

// People is everyone Lifeboat knows in the company, as of the last look at
// the directory, with who left and who is excluded.
func (s *Service) People() ([]people.Person, error) {
	r, err := people.LoadRoster(s.peoplePath())
	if err != nil {
		return nil, err
	}
	return r.Sorted(), nil
}

// SetExcluded excludes people from company backups (or includes them
// again): each key is an e-mail address, a name or an ID. Their copies
// stay either way.
func (s *Service) SetExcluded(keys []string, excluded bool) ([]people.Person, error) {
	r, err := people.LoadRoster(s.peoplePath())
	if err != nil {
		return nil, err
	}
	var changed []people.Person
	var unknown []string
	for _, k := range keys {
		p, ok := r.Find(k)
		if !ok {
			unknown = append(unknown, k)
			continue
		}
		p.Excluded = excluded
		changed = append(changed, *p)
	}
	if len(unknown) > 0 {
		return nil, badInput(fmt.Errorf("nobody called %q in your company (see `lifeboat people`)", unknown))
	}
	if err := people.SaveRoster(s.peoplePath(), r); err != nil {
		return nil, err
	}
	return changed, nil
}

// RefreshPeople looks at the company's directory with the company
// credential and updates the list: new people are added, leavers marked.
func (s *Service) RefreshPeople(ctx context.Context) (people.Changes, error) {
	ts, _, err := s.companyTokens()
	if err != nil {
		return people.Changes{}, err
	}
	_, ch, err := s.refreshPeople(ctx, ts)
	return ch, err
}

func (s *Service) refreshPeople(ctx context.Context, ts *auth.AppTokenSource) (people.Roster, people.Changes, error) {
	graphURL, hc := s.graphEndpoint()
	dir, err := people.NewDirectory(ts, graphURL, hc)
	if err != nil {
		return people.Roster{}, people.Changes{}, err
	}
	r, err := people.LoadRoster(s.peoplePath())
	if err != nil {
		return r, people.Changes{}, err
	}
	users, err := dir.Users(ctx)
	if err != nil {
		return r, people.Changes{}, err
	}
	deleted, err := dir.Deleted(ctx)
	if err != nil {
		// Without it a leaver is still marked, only without Microsoft's date.
		s.o.Logger.Warn("could not list deleted people", "err", err)
		deleted = nil
	}
	obs := make([]people.Observation, len(users))
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	sem := make(chan struct{}, 8)
	for i, u := range users {
		obs[i] = people.Observation{User: u}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			purpose, err := dir.Purpose(ctx, u.ID)
			if err == nil {
				obs[i].Purpose = purpose
				obs[i].DriveID, err = dir.Drive(ctx, u.ID)
			}
			if err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("%s: %w", u.UPN, err))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		// A person whose mailbox could not be looked at is not marked as
		// anything new: the list is not updated this time.
		return r, people.Changes{}, fmt.Errorf("look at the people in your company: %w", err)
	}
	ch := r.Update(s.now(), people.Observed{Listed: obs, Deleted: deleted})
	if err := people.SaveRoster(s.peoplePath(), r); err != nil {
		return r, ch, err
	}
	return r, ch, nil
}
