package service

import (
	"strings"

	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/graph"
)

// companyGraphClient reaches a person's mailbox and OneDrive with the
// company credential, when Lifeboat backs up the whole company and the
// person is one of the company's (ok false otherwise: their own sign-in is
// used).
func (s *Service) companyGraphClient(a catalog.Account) (*graph.Client, bool, error) {
	company, err := s.CompanyMode()
	if err != nil || !company {
		return nil, false, nil
	}
	ts, _, err := s.companyTokens()
	if err != nil {
		return nil, true, err
	}
	if !strings.HasSuffix(a.HomeID, "."+ts.Credential().TenantID) {
		return nil, false, nil
	}
	graphURL, hc := s.graphEndpoint()
	gc, err := graph.New(graph.Options{GraphURL: graphURL, HTTPClient: hc, Auth: ts, Account: personID(a), Pacer: s.sharedPacer(), Logger: s.o.Logger})
	return gc, true, err
}

// personID is the directory object ID in an account's home ID.
func personID(a catalog.Account) string {
	id, _, _ := strings.Cut(a.HomeID, ".")
	return id
}

// restoreUser is the Graph user a restore writes to: the person by object
// ID in organization mode (an app-only token has no "me"), else "me".
func (s *Service) restoreUser(a catalog.Account) string {
	if company, err := s.CompanyMode(); err == nil && company && a.Kind == catalog.AccountWork && strings.Contains(a.HomeID, ".") {
		return personID(a)
	}
	return "me"
}
