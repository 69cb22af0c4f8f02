package backup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/lifeboat-backup/lifeboat/engine/repo"
)

// ChannelConversation is one channel of a team as a backup kept it:
// its threads in the order they were started.
type ChannelConversation struct {
	ID, Name, MembershipType string
	Threads                  []Thread
	// Refused: Microsoft refused to serve the channel's messages at the
	// last backup (the threads are an earlier backup's).
	Refused bool
}

// TeamConversations is a team's conversations in a teams snapshot.
type TeamConversations struct {
	TeamID, Name string
	Channels     []ChannelConversation
}

// LatestTeamsSnapshot returns the newest teams snapshot of an account
// (home ID), or errNoTeamsSnapshot.
func LatestTeamsSnapshot(ctx context.Context, r *repo.Repository, homeID string) (*repo.Snapshot, error) {
	snaps, err := r.ListSnapshots(ctx)
	if err != nil {
		return nil, err
	}
	var best *repo.Snapshot
	for _, s := range snaps {
		if s.Kind == KindTeams && s.State[stateHome] == homeID && (best == nil || s.Time.After(best.Time)) {
			best = s
		}
	}
	if best == nil {
		return nil, errNoTeamsSnapshot
	}
	return best, nil
}

// LoadTeamConversations reads every thread of a teams snapshot.
func LoadTeamConversations(ctx context.Context, r *repo.Repository, snap *repo.Snapshot) (*TeamConversations, error) {
	b, err := r.LoadBlob(ctx, snap.Root)
	if err != nil {
		return nil, fmt.Errorf("backup: loading the teams snapshot: %w", err)
	}
	var rt teamsRoot
	if err := json.Unmarshal(b, &rt); err != nil || rt.Format != teamsRootFormat {
		return nil, fmt.Errorf("backup: teams snapshot tree %s: %w", snap.Root.Short(), ErrUnknownTree)
	}
	out := &TeamConversations{TeamID: rt.Team, Name: rt.Name}
	for _, c := range rt.Channels {
		cc := ChannelConversation{ID: c.ID, Name: c.Name, MembershipType: c.MembershipType, Refused: c.Refused}
		for _, t := range c.Threads {
			raw, err := readAll(ctx, r, t.Content)
			if err != nil {
				return nil, fmt.Errorf("backup: a thread of %s: %w", c.Name, err)
			}
			var th Thread
			if err := json.Unmarshal(raw, &th); err != nil {
				return nil, fmt.Errorf("backup: a thread of %s: %w", c.Name, err)
			}
			cc.Threads = append(cc.Threads, th)
		}
		out.Channels = append(out.Channels, cc)
	}
	return out, nil
}

func readAll(ctx context.Context, r *repo.Repository, ref repo.ContentRef) ([]byte, error) {
	rc := r.OpenStream(ctx, ref)
	defer rc.Close()
	var b []byte
	buf := make([]byte, 32<<10)
	for {
		n, err := rc.Read(buf)
		b = append(b, buf[:n]...)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return b, nil
			}
			return b, err
		}
	}
}
