package backup

// Group mailboxes: the conversations of one Microsoft 365 group
// (Options.User is the group ID, Only ScopeGroupMail). Graph has no delta
// for them; a thread's lastDeliveredDateTime moves with each post, so a
// run lists the threads (one request for the group) and fetches the posts
// of threads that moved. Each thread is kept as the posts Graph served.

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
)

// KindGroupMail is the snapshot kind of a group's conversations.
const KindGroupMail = "groupmail"

// ScopeGroupMail backs up a group's conversations (Options.User is the
// group ID).
const ScopeGroupMail Scope = "groupmail"

const groupRootFormat = "lifeboat-backup-groupmail-root/1"

type groupRoot struct {
	Format  string             `json:"format"`
	Group   string             `json:"group"`
	Name    string             `json:"name"`
	Threads []groupThreadEntry `json:"threads"`
}

type groupThreadEntry struct {
	ID            string          `json:"id"`
	Topic         string          `json:"topic"`
	LastDelivered string          `json:"lastDelivered"`
	Content       repo.ContentRef `json:"content"`
}

// GroupThread is a stored thread of a group: its posts as Graph served
// them, oldest first.
type GroupThread struct {
	ID    string            `json:"id"`
	Topic string            `json:"topic"`
	Posts []json.RawMessage `json:"posts"`
}

// GroupPostInfo is what a backup reads of a post.
type GroupPostInfo struct {
	ID       string    `json:"id"`
	Received time.Time `json:"receivedDateTime"`
	From     struct {
		EmailAddress struct {
			Name    string `json:"name"`
			Address string `json:"address"`
		} `json:"emailAddress"`
	} `json:"from"`
	Body struct {
		ContentType string `json:"contentType"`
		Content     string `json:"content"`
	} `json:"body"`
}

func groupRefs(tree []byte) ([]repo.ID, error) {
	var rt groupRoot
	if err := json.Unmarshal(tree, &rt); err != nil {
		return nil, fmt.Errorf("backup: group root: %w", err)
	}
	var ids []repo.ID
	for _, t := range rt.Threads {
		ids = append(ids, t.Content.Chunks...)
	}
	return ids, nil
}

func loadGroupRoot(ctx context.Context, r *repo.Repository, id repo.ID) (*groupRoot, error) {
	b, err := r.LoadBlob(ctx, id)
	if err != nil {
		return nil, repoError{err}
	}
	var rt groupRoot
	if err := json.Unmarshal(b, &rt); err != nil || rt.Format != groupRootFormat {
		return nil, fmt.Errorf("backup: group snapshot tree %s: %w", id.Short(), ErrUnknownTree)
	}
	return &rt, nil
}

func (ru *run) backupGroupMail(ctx context.Context) error {
	group := ru.o.User
	threads, err := ru.g.ListGroupThreads(ctx, group)
	if err != nil {
		if fatal(ctx, err) && !forbidden(err) {
			return fmt.Errorf("backup: the conversations of %s: %w", ru.o.Account.DisplayName, err)
		}
		ru.warn("The conversations of the group %q were not backed up: Microsoft did not let Lifeboat read them (%v).", ru.o.Account.DisplayName, err)
		return nil
	}
	prev := ru.previous(KindGroupMail)
	old := map[string]groupThreadEntry{}
	if prev != nil && !prev.Root.IsZero() {
		rt, err := loadGroupRoot(ctx, ru.r, prev.Root)
		if err != nil {
			return err
		}
		for _, t := range rt.Threads {
			old[t.ID] = t
		}
	}
	s, err := ru.openStream(ctx, catalog.SnapshotGroupMail, prev)
	if err != nil {
		return err
	}
	defer s.close()
	rt := &groupRoot{Format: groupRootFormat, Group: group, Name: ru.o.Account.DisplayName}
	for _, th := range threads {
		if o, ok := old[th.ID]; ok && o.LastDelivered == th.LastDelivered && stored(ru.r, o.Content) {
			rt.Threads = append(rt.Threads, o)
			continue
		}
		posts, err := ru.g.ListThreadPosts(ctx, group, th.ID)
		if err != nil {
			if fatal(ctx, err) {
				return err
			}
			if o, ok := old[th.ID]; ok {
				rt.Threads = append(rt.Threads, o)
			}
			if err := ru.skip(ctx, "group "+ru.o.Account.DisplayName+": conversation "+th.Topic, err.Error(), 0); err != nil {
				return err
			}
			continue
		}
		sort.SliceStable(posts, func(i, j int) bool { return receivedOf(posts[i]).Before(receivedOf(posts[j])) })
		b, err := json.Marshal(GroupThread{ID: th.ID, Topic: th.Topic, Posts: posts})
		if err != nil {
			return err
		}
		ref, err := ru.saveBytes(ctx, b)
		if err != nil {
			return err
		}
		rt.Threads = append(rt.Threads, groupThreadEntry{ID: th.ID, Topic: th.Topic, LastDelivered: th.LastDelivered, Content: ref})
		for _, raw := range posts {
			var p GroupPostInfo
			if json.Unmarshal(raw, &p) != nil || p.ID == "" {
				continue
			}
			text := (&ChatMessageInfo{Body: p.Body}).Text()
			meta, _ := json.Marshal(map[string]string{"group": ru.o.Account.DisplayName, "thread": th.ID, "topic": th.Topic})
			v := catalog.Version{Item: catalog.ItemRef{Account: ru.o.Account.HomeID, Kind: catalog.KindGroupPost, ID: p.ID},
				Content: encodeContent(ref), Size: ref.Size, Name: th.Topic, Folder: ru.o.Account.DisplayName, Time: p.Received,
				Metadata: meta, Body: text, People: []catalog.Person{{Name: p.From.EmailAddress.Name, Address: p.From.EmailAddress.Address}}}
			if err := s.upsert(v); err != nil {
				return err
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	_, err = s.saveAs(ctx, KindGroupMail, rt, map[string]string{})
	return err
}

func receivedOf(raw json.RawMessage) time.Time {
	var p struct {
		Received time.Time `json:"receivedDateTime"`
	}
	_ = json.Unmarshal(raw, &p)
	return p.Received
}

// LoadGroupThreads reads the threads of the newest groupmail snapshot of
// an account (home ID); nil when there is none.
func LoadGroupThreads(ctx context.Context, r *repo.Repository, homeID string) (name string, threads []GroupThread, err error) {
	snaps, err := r.ListSnapshots(ctx)
	if err != nil {
		return "", nil, err
	}
	var best *repo.Snapshot
	for _, s := range snaps {
		if s.Kind == KindGroupMail && s.State[stateHome] == homeID && (best == nil || s.Time.After(best.Time)) {
			best = s
		}
	}
	if best == nil {
		return "", nil, nil
	}
	rt, err := loadGroupRoot(ctx, r, best.Root)
	if err != nil {
		return "", nil, err
	}
	for _, t := range rt.Threads {
		raw, err := readAll(ctx, r, t.Content)
		if err != nil {
			return "", nil, err
		}
		var th GroupThread
		if err := json.Unmarshal(raw, &th); err != nil {
			return "", nil, err
		}
		threads = append(threads, th)
	}
	return rt.Name, threads, nil
}
