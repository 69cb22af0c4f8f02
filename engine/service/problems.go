package service

import (
	"context"
	"errors"
	"io/fs"

	"github.com/lifeboat-backup/lifeboat/engine/auth"
	"github.com/lifeboat-backup/lifeboat/engine/backup"
	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/graph"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
	"github.com/lifeboat-backup/lifeboat/engine/restore"
)

// Problem is an error in words for the owner: what went wrong and what to
// do. It wraps the error behind it.
type Problem struct {
	What, Todo string
	Err        error
}

func (p *Problem) Error() string {
	if p.Err != nil {
		return p.What + ": " + p.Err.Error()
	}
	return p.What
}

func (p *Problem) Unwrap() error { return p.Err }

// ErrNoMicrosoft365 means restores into Microsoft 365 are not possible
// here (no way to reach the account).
var ErrNoMicrosoft365 = errors.New("restore: no Microsoft 365 connection")

// Explain turns an error of browsing or restoring into a Problem, keeping
// it wrapped for errors.Is. A Problem and cancellation pass unchanged.
func ExplainProblem(err error) error {
	var p *Problem
	if err == nil || errors.As(err, &p) || errors.Is(err, context.Canceled) {
		return err
	}
	prob := func(what, todo string) error { return &Problem{What: what, Todo: todo, Err: err} }
	switch {
	case errors.Is(err, catalog.ErrNoSnapshot), errors.Is(err, restore.ErrNotAtThatTime):
		return prob("The backup holds nothing from that time.", "Choose a later backup date.")
	case errors.Is(err, catalog.ErrNotFound):
		return prob("Lifeboat cannot find that in the backup any more.", "Search for it again; an old backup may have been thinned out.")
	case errors.Is(err, catalog.ErrCorrupt):
		return prob("The list of what your backup holds is damaged.", "Run Repair in Settings › Diagnostics; it rebuilds it from the backup drive.")
	case errors.Is(err, auth.ErrSignInRequired), errors.Is(err, graph.ErrAuth):
		return prob("Microsoft 365 needs you to sign in again.", "Sign in again in Settings › Accounts, then try again.")
	case errors.Is(err, graph.ErrThrottled), errors.Is(err, graph.ErrTransient):
		return prob("Microsoft 365 is busy right now.", "Wait a few minutes and try again.")
	case errors.Is(err, repo.ErrCorrupt):
		return prob("Part of your backup is damaged.", "Run Check backup in Settings › Diagnostics to see what is affected.")
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, ErrDriveMissing):
		return prob("Lifeboat cannot read your backup drive.", "Connect the backup drive and try again.")
	case errors.Is(err, fs.ErrPermission):
		return prob("Lifeboat is not allowed to write there.", "Choose another folder, or check its permissions.")
	}
	var in *InputError
	if errors.As(err, &in) {
		return prob(capitalize(in.Error())+".", "Check your choice and try again.")
	}
	return prob("Something went wrong.", "Check that your backup drive is connected and that you are online, then try again.")
}

// ExplainOpen says why a backup could not be opened for browsing.
func ExplainOpen(err error) (what, todo string) {
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, ErrDriveMissing):
		return "The backup drive or folder is not there.", "Connect the backup drive, then choose Restore again."
	case errors.Is(err, backup.ErrNoCatalogCopy):
		return "No backup has finished yet.", "Let the first backup finish, then choose Restore again."
	case errors.Is(err, repo.ErrNoKeychainKey), errors.Is(err, repo.ErrWrongKey):
		return "This computer does not have the key to this backup.", "Open Settings › Recovery key and enter your recovery key."
	}
	p := ExplainProblem(err).(*Problem)
	return p.What, p.Todo
}

// FailureReason says in words why one item could not be put back.
func FailureReason(err error) string {
	switch {
	case errors.Is(err, graph.ErrNotFound):
		return "the place it belongs no longer exists in Microsoft 365"
	case errors.Is(err, graph.ErrAuth):
		return "Microsoft 365 refused access; sign in again in Settings"
	case errors.Is(err, restore.ErrChanged):
		return "it changed there while Lifeboat was working; try again"
	case errors.Is(err, fs.ErrPermission):
		return "Lifeboat may not write there"
	case errors.Is(err, repo.ErrCorrupt):
		return "its copy in the backup is damaged"
	}
	return "it could not be written (" + err.Error() + ")"
}
