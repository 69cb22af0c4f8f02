package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/lifeboat-backup/lifeboat/engine/auth"
	"github.com/lifeboat-backup/lifeboat/engine/backup"
	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/graph"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
)

// teamHomeID is the catalog's account key of a team.
func teamHomeID(teamID, tenantID string) string { return "team." + teamID + "." + tenantID }

// backUpTeams backs up every team's channel conversations, one team
// after another (Teams' limits are per app, not per mailbox). A team
// Microsoft refuses to serve gets its own sentence; the others go on.
func (s *Service) backUpTeams(ctx context.Context, r *repo.Repository, cat *catalog.Catalog, ts *auth.AppTokenSource, tenantID string, req BackupRequest) ([]AccountResult, error) {
	graphURL, hc := s.graphEndpoint()
	gc, err := graph.New(graph.Options{GraphURL: graphURL, HTTPClient: hc, Auth: ts, Pacer: s.sharedPacer(), Logger: s.o.Logger})
	if err != nil {
		return nil, err
	}
	teams, err := gc.ListTeams(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if errors.Is(err, graph.ErrForbidden) {
			req.Events.note("Lifeboat may not list your company's teams yet, so their conversations were not backed up; everything else was.")
			return nil, nil
		}
		return nil, fmt.Errorf("listing the teams: %w", err)
	}
	out, err := s.backUpGroupMail(ctx, gc, r, cat, tenantID, req)
	if err != nil {
		return out, err
	}
	for _, tm := range teams {
		ar := AccountResult{Account: tm.DisplayName}
		ar.Result, ar.Err = backup.Run(ctx, backup.Options{
			Graph: gc, Repo: r, Catalog: cat, User: tm.ID, Only: backup.ScopeTeams, Logger: s.o.Logger,
			Account:        catalog.Account{HomeID: teamHomeID(tm.ID, tenantID), UPN: tm.DisplayName, DisplayName: tm.DisplayName, Kind: catalog.AccountWork},
			OnProgress:     req.Events.Progress,
			NoCatalogCopy:  true,
			CommitInterval: s.o.Checkpoint,
		})
		for _, w := range ar.Result.Warnings {
			req.Events.note("%s", w)
		}
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		out = append(out, ar)
		if req.Events.Result != nil {
			req.Events.Result(ar)
		}
	}
	return out, nil
}

// groupHomeID is the catalog's account key of a group's mailbox.
func groupHomeID(groupID, tenantID string) string { return "group." + groupID + "." + tenantID }

// backUpGroupMail backs up every Microsoft 365 group's conversations.
func (s *Service) backUpGroupMail(ctx context.Context, gc *graph.Client, r *repo.Repository, cat *catalog.Catalog, tenantID string, req BackupRequest) ([]AccountResult, error) {
	groups, err := gc.ListGroups(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		req.Events.note("Lifeboat could not list your company's groups, so their shared mailboxes' conversations were not backed up this time; everything else was.")
		return nil, nil
	}
	var out []AccountResult
	for _, g := range groups {
		ar := AccountResult{Account: g.Mail}
		ar.Result, ar.Err = backup.Run(ctx, backup.Options{
			Graph: gc, Repo: r, Catalog: cat, User: g.ID, Only: backup.ScopeGroupMail, Logger: s.o.Logger,
			Account:        catalog.Account{HomeID: groupHomeID(g.ID, tenantID), UPN: g.Mail, DisplayName: g.DisplayName, Kind: catalog.AccountWork},
			OnProgress:     req.Events.Progress,
			NoCatalogCopy:  true,
			CommitInterval: s.o.Checkpoint,
		})
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		out = append(out, ar)
		if req.Events.Result != nil {
			req.Events.Result(ar)
		}
	}
	return out, nil
}
