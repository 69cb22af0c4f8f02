package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/lifeboat-backup/lifeboat/engine/backup"
	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/teamsexport"
)

// ErrTeamsRestore is why Lifeboat offers an export instead of putting
// messages back into Teams.
var ErrTeamsRestore = errors.New("messages cannot be put back into Teams: Microsoft lets apps write old messages only into a team being migrated, not into a team in use, so Lifeboat saves the conversation as a web page you can open in any browser instead")

// ExportedChannel is one channel written by ExportTeams.
type ExportedChannel struct {
	Team, Channel, Path string
	Messages, Replies   int
}

// ExportTeams writes every channel's conversation of every team in the
// backup to outDir/<team>/<channel>.html, one self-contained page per
// channel, and returns what it wrote.
func (s *Service) ExportTeams(ctx context.Context, dir, recoveryKey, outDir string) ([]ExportedChannel, error) {
	r, err := s.OpenBackup(ctx, dir, recoveryKey)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	snaps, err := r.ListSnapshots(ctx)
	if err != nil {
		return nil, err
	}
	homes := map[string]bool{}
	for _, sn := range snaps {
		if sn.Kind == backup.KindTeams {
			homes[sn.State["account.home"]] = true
		}
	}
	var out []ExportedChannel
	for home := range homes {
		snap, err := backup.LatestTeamsSnapshot(ctx, r, home)
		if err != nil {
			return out, err
		}
		tc, err := backup.LoadTeamConversations(ctx, r, snap)
		if err != nil {
			return out, err
		}
		tdir := filepath.Join(outDir, safeFileName(tc.Name))
		if err := os.MkdirAll(tdir, 0o700); err != nil {
			return out, fmt.Errorf("making the folder for %s: %w", tc.Name, err)
		}
		for _, ch := range tc.Channels {
			p := filepath.Join(tdir, safeFileName(ch.Name)+".html")
			cnt, err := writeChannelFile(p, teamsexport.Channel{Team: tc.Name, Name: ch.Name, Threads: ch.Threads})
			if err != nil {
				return out, err
			}
			out = append(out, ExportedChannel{Team: tc.Name, Channel: ch.Name, Path: p, Messages: cnt.Messages, Replies: cnt.Replies})
		}
	}
	groups := map[string]bool{}
	for _, sn := range snaps {
		if sn.Kind == backup.KindGroupMail {
			groups[sn.State["account.home"]] = true
		}
	}
	for home := range groups {
		name, threads, err := backup.LoadGroupThreads(ctx, r, home)
		if err != nil {
			return out, err
		}
		gdir := filepath.Join(outDir, "Group conversations")
		if err := os.MkdirAll(gdir, 0o700); err != nil {
			return out, err
		}
		p := filepath.Join(gdir, safeFileName(name)+".html")
		cnt, err := writePage(p, func(w io.Writer) (teamsexport.Counts, error) { return teamsexport.WriteGroup(w, name, threads) })
		if err != nil {
			return out, err
		}
		out = append(out, ExportedChannel{Team: name, Channel: "", Path: p, Messages: cnt.Messages, Replies: cnt.Replies})
	}
	return out, nil
}

// writeChannelFile writes the page beside its place and renames it there,
// so a crash never leaves half a page under the real name.
func writeChannelFile(p string, ch teamsexport.Channel) (teamsexport.Counts, error) {
	return writePage(p, func(w io.Writer) (teamsexport.Counts, error) { return teamsexport.Write(w, ch) })
}

func writePage(p string, write func(io.Writer) (teamsexport.Counts, error)) (teamsexport.Counts, error) {
	f, err := os.CreateTemp(filepath.Dir(p), ".export-*.html")
	if err != nil {
		return teamsexport.Counts{}, err
	}
	defer os.Remove(f.Name())
	cnt, err := write(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), p)
	}
	if err != nil {
		return cnt, fmt.Errorf("writing %s: %w", filepath.Base(p), err)
	}
	return cnt, nil
}

// safeFileName keeps a name to one harmless path element.
func safeFileName(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 32 || strings.ContainsRune(`/\:*?"<>|`, r) {
			return '_'
		}
		return r
	}, s)
	s = strings.Trim(s, ". ")
	if s == "" {
		s = "unnamed"
	}
	if len(s) > 100 {
		s = s[:100]
	}
	return s
}

// refuseTeamsRestore turns down a restore of channel messages with the
// reason and the way out (the export).
func refuseTeamsRestore(items []catalog.VersionInfo) error {
	for _, v := range items {
		if v.Item.Kind == catalog.KindChatMessage {
			return badInput(fmt.Errorf("%w. Save the channel as a web page instead: lifeboat export --teams --to-dir DIR", ErrTeamsRestore))
		}
	}
	return nil
}
