package backup

// Teams: every channel's conversation of one team (Options.User is the
// team's ID, Only ScopeTeams). Each thread — a root message with its
// replies and their inline images — is kept as the JSON Graph served, one
// stored blob per thread, and each message and reply is indexed in the
// catalog (who, when, the text) so that find reaches it.
//
// Incremental: a channel's message delta lists the root messages changed
// since the last run (a new reply or reaction changes its thread), so a
// channel where nothing happened costs one request. Delta reaches back
// only about eight months, so a channel's first backup also lists every
// message; the delta round is taken first, so nothing posted in between is
// missed (it comes again in the next round).

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/graph"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
)

// KindTeams is the snapshot kind of a team's conversations.
const KindTeams = "teams"

// ScopeTeams backs up a team's channel conversations (Options.User is
// the team ID).
const ScopeTeams Scope = "teams"

const (
	teamsRootFormat     = "lifeboat-backup-teams-root/1"
	stateChannelPrefix  = "teams.channel." // + channel ID: message delta link
	maxThreadImages     = 50
	maxHostedContentLen = 16 << 20
)

// teamsRoot is the root tree of a teams snapshot.
type teamsRoot struct {
	Format   string         `json:"format"`
	Team     string         `json:"team"`
	Name     string         `json:"name"`
	Channels []channelEntry `json:"channels"`
}

type channelEntry struct {
	ID             string        `json:"id"`
	Name           string        `json:"name"`
	MembershipType string        `json:"membershipType"`
	Threads        []threadEntry `json:"threads"`
	// Refused: Microsoft refused to serve this channel's messages at the
	// last run; Threads are what an earlier run kept.
	Refused bool `json:"refused,omitempty"`
}

type threadEntry struct {
	ID      string          `json:"id"` // the root message ID
	Created time.Time       `json:"created"`
	Content repo.ContentRef `json:"content"`
}

// Thread is a stored thread: the root message and its replies as Graph
// served them, and the inline images the bodies name (by URL).
type Thread struct {
	Message json.RawMessage   `json:"message"`
	Replies []json.RawMessage `json:"replies"`
	Images  map[string]string `json:"images,omitempty"` // hosted content URL → base64 bytes
}

func teamsRefs(tree []byte) ([]repo.ID, error) {
	var rt teamsRoot
	if err := json.Unmarshal(tree, &rt); err != nil {
		return nil, fmt.Errorf("backup: teams root: %w", err)
	}
	var ids []repo.ID
	for _, c := range rt.Channels {
		for _, t := range c.Threads {
			ids = append(ids, t.Content.Chunks...)
		}
	}
	return ids, nil
}

// ChatMessageInfo is what a backup reads of a chatMessage.
type ChatMessageInfo struct {
	ID        string    `json:"id"`
	ReplyToID string    `json:"replyToId"`
	Created   time.Time `json:"createdDateTime"`
	Subject   string    `json:"subject"`
	Deleted   *string   `json:"deletedDateTime"`
	From      struct {
		User *struct {
			ID          string `json:"id"`
			DisplayName string `json:"displayName"`
		} `json:"user"`
	} `json:"from"`
	Body struct {
		ContentType string `json:"contentType"`
		Content     string `json:"content"`
	} `json:"body"`
	Mentions []struct {
		ID          int    `json:"id"`
		MentionText string `json:"mentionText"`
	} `json:"mentions"`
	Reactions []struct {
		ReactionType string `json:"reactionType"`
		User         struct {
			User *struct {
				ID          string `json:"id"`
				DisplayName string `json:"displayName"`
			} `json:"user"`
		} `json:"user"`
	} `json:"reactions"`
	Attachments []struct {
		ID          string `json:"id"`
		ContentType string `json:"contentType"`
		ContentURL  string `json:"contentUrl"`
		Name        string `json:"name"`
	} `json:"attachments"`
}

// Author is the display name of who wrote it.
func (m *ChatMessageInfo) Author() string {
	if m.From.User != nil {
		return m.From.User.DisplayName
	}
	return ""
}

var (
	tagRE = regexp.MustCompile(`<[^>]*>`)
	imgRE = regexp.MustCompile(`<img[^>]+src="([^"]+/hostedContents/[^"]+/\$value)"`)
)

// Text is the message body as plain text.
func (m *ChatMessageInfo) Text() string {
	t := m.Body.Content
	if strings.EqualFold(m.Body.ContentType, "html") {
		t = htmlUnescape(tagRE.ReplaceAllString(t, " "))
	}
	return strings.Join(strings.Fields(t), " ")
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&quot;", `"`, "&#39;", "'", "&nbsp;", " ").Replace(s)
}

func (ru *run) backupTeam(ctx context.Context) error {
	team := ru.o.User
	chans, err := ru.g.ListChannels(ctx, team)
	if err != nil {
		if fatal(ctx, err) && !forbidden(err) {
			return fmt.Errorf("backup: listing the channels of %s: %w", ru.o.Account.DisplayName, err)
		}
		ru.warn("The team %q was not backed up: Microsoft did not let Lifeboat list its channels (%v).", ru.o.Account.DisplayName, err)
		return nil
	}
	prev := ru.previous(KindTeams)
	old := map[string]*channelEntry{}
	if prev != nil && !prev.Root.IsZero() {
		b, err := ru.r.LoadBlob(ctx, prev.Root)
		if err != nil {
			return repoError{err}
		}
		var rt teamsRoot
		if err := json.Unmarshal(b, &rt); err != nil || rt.Format != teamsRootFormat {
			return fmt.Errorf("backup: teams snapshot tree %s: %w", prev.Root.Short(), ErrUnknownTree)
		}
		for i := range rt.Channels {
			old[rt.Channels[i].ID] = &rt.Channels[i]
		}
	}
	s, err := ru.openStream(ctx, catalog.SnapshotTeams, prev)
	if err != nil {
		return err
	}
	defer s.close()
	ru.prog.update(true, func(p *Progress) { p.Phase = PhaseMail; p.Current = ru.o.Account.DisplayName })
	rt := &teamsRoot{Format: teamsRootFormat, Team: team, Name: ru.o.Account.DisplayName}
	state := map[string]string{}
	refused := false
	for _, ch := range chans {
		entry := channelEntry{ID: ch.ID, Name: ch.DisplayName, MembershipType: ch.MembershipType}
		threads := map[string]threadEntry{}
		if o := old[ch.ID]; o != nil {
			for _, t := range o.Threads {
				threads[t.ID] = t
			}
		}
		link := ""
		if prev != nil {
			link = prev.State[stateChannelPrefix+ch.ID]
		}
		next, err := ru.backupChannel(ctx, s, team, ch, link, threads)
		if err != nil {
			if fatal(ctx, err) && !forbidden(err) {
				return fmt.Errorf("backup: channel %s of %s: %w", ch.DisplayName, ru.o.Account.DisplayName, err)
			}
			if forbidden(err) {
				refused = true
			} else {
				ru.warn("The channel %q of the team %q was not completely backed up: %v", ch.DisplayName, ru.o.Account.DisplayName, err)
			}
			entry.Refused = forbidden(err)
			if link != "" {
				state[stateChannelPrefix+ch.ID] = link // try the same round again next time
			}
		} else {
			state[stateChannelPrefix+ch.ID] = next
		}
		for _, t := range threads {
			entry.Threads = append(entry.Threads, t)
		}
		sort.Slice(entry.Threads, func(i, j int) bool { return entry.Threads[i].Created.Before(entry.Threads[j].Created) })
		rt.Channels = append(rt.Channels, entry)
	}
	if refused {
		ru.warn("The conversations of the team %q were not backed up: Microsoft has not approved Lifeboat to read Teams messages for your company yet (Microsoft checks each app that asks). Its channel list and everything else were backed up; what earlier backups kept of it stays.", ru.o.Account.DisplayName)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	_, err = s.saveAs(ctx, KindTeams, rt, state)
	return err
}

// backupChannel brings threads up to date and returns the next delta link.
func (ru *run) backupChannel(ctx context.Context, s *stream, team string, ch graph.Channel, link string, threads map[string]threadEntry) (string, error) {
	changed := map[string]json.RawMessage{}
	collect := func(vs []json.RawMessage) error {
		for _, v := range vs {
			var head struct {
				ID string `json:"id"`
			}
			if json.Unmarshal(v, &head) == nil && head.ID != "" {
				changed[head.ID] = v
			}
		}
		return nil
	}
	next, err := ru.g.ChannelMessageDelta(ctx, team, ch.ID, link, collect)
	if err != nil && link != "" && !fatal(ctx, err) && !forbidden(err) {
		// The round could not continue (expired): start again in full.
		link = ""
		next, err = ru.g.ChannelMessageDelta(ctx, team, ch.ID, "", collect)
	}
	if err != nil {
		return "", err
	}
	if link == "" {
		// Delta's first round reaches back about eight months only.
		if err := ru.g.ListChannelMessages(ctx, team, ch.ID, collect); err != nil {
			return "", err
		}
	}
	ids := make([]string, 0, len(changed))
	for id := range changed {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		th := Thread{Message: changed[id]}
		reps, err := ru.g.ListReplies(ctx, team, ch.ID, id)
		if err != nil {
			if fatal(ctx, err) || forbidden(err) {
				return "", err
			}
			if err := ru.skip(ctx, "team "+ru.o.Account.DisplayName+": channel "+ch.DisplayName+": thread "+id, err.Error(), 0); err != nil {
				return "", err
			}
			continue
		}
		// Replies in the order people wrote them.
		sort.SliceStable(reps, func(i, j int) bool { return createdOf(reps[i]).Before(createdOf(reps[j])) })
		th.Replies = reps
		if err := ru.threadImages(ctx, &th); err != nil {
			return "", err
		}
		b, err := json.Marshal(th)
		if err != nil {
			return "", err
		}
		ref, err := ru.saveBytes(ctx, b)
		if err != nil {
			return "", err
		}
		var root ChatMessageInfo
		_ = json.Unmarshal(th.Message, &root)
		threads[id] = threadEntry{ID: id, Created: root.Created, Content: ref}
		for i, raw := range append([]json.RawMessage{th.Message}, th.Replies...) {
			var m ChatMessageInfo
			if json.Unmarshal(raw, &m) != nil || m.ID == "" {
				continue
			}
			if err := s.upsert(ru.chatVersion(ch, &root, &m, i > 0, ref)); err != nil {
				return "", err
			}
		}
	}
	return next, nil
}

// threadImages downloads the inline images the thread's bodies name.
func (ru *run) threadImages(ctx context.Context, th *Thread) error {
	for _, raw := range append([]json.RawMessage{th.Message}, th.Replies...) {
		var m ChatMessageInfo
		if json.Unmarshal(raw, &m) != nil {
			continue
		}
		for _, sm := range imgRE.FindAllStringSubmatch(m.Body.Content, -1) {
			u := htmlUnescape(sm[1])
			if _, done := th.Images[u]; done || len(th.Images) >= maxThreadImages {
				continue
			}
			b, err := ru.g.GetHostedContent(ctx, u)
			if err != nil {
				if fatal(ctx, err) {
					return err
				}
				ru.warn("An image in a message of %q could not be kept: %v", ru.o.Account.DisplayName, err)
				continue
			}
			if len(b) > maxHostedContentLen {
				continue
			}
			if th.Images == nil {
				th.Images = map[string]string{}
			}
			th.Images[u] = base64.StdEncoding.EncodeToString(b)
		}
	}
	return nil
}

func createdOf(raw json.RawMessage) time.Time {
	var m struct {
		Created time.Time `json:"createdDateTime"`
	}
	_ = json.Unmarshal(raw, &m)
	return m.Created
}

// ChatMessageMetadata is a channel message's catalog metadata.
type ChatMessageMetadata struct {
	Team      string `json:"team"`
	Channel   string `json:"channel"`
	ChannelID string `json:"channelId"`
	ThreadID  string `json:"threadId"`
	Reply     bool   `json:"reply,omitempty"`
	Author    string `json:"author,omitempty"`
}

func (ru *run) chatVersion(ch graph.Channel, root, m *ChatMessageInfo, reply bool, ref repo.ContentRef) catalog.Version {
	name := root.Subject
	if name == "" {
		name = firstWords(root.Text(), 8)
	}
	if reply {
		name = "Re: " + name
	}
	meta, _ := json.Marshal(ChatMessageMetadata{Team: ru.o.Account.DisplayName, Channel: ch.DisplayName, ChannelID: ch.ID, ThreadID: root.ID, Reply: reply, Author: m.Author()})
	v := catalog.Version{
		Item:     catalog.ItemRef{Account: ru.o.Account.HomeID, Kind: catalog.KindChatMessage, ID: ch.ID + "/" + m.ID},
		Content:  encodeContent(ref),
		Size:     ref.Size,
		Name:     name,
		Folder:   ru.o.Account.DisplayName + "/" + ch.DisplayName,
		Time:     m.Created,
		Metadata: meta,
		Body:     m.Text(),
	}
	if a := m.Author(); a != "" {
		v.People = append(v.People, catalog.Person{Name: a})
	}
	for _, mn := range m.Mentions {
		v.People = append(v.People, catalog.Person{Name: mn.MentionText})
	}
	for _, a := range m.Attachments {
		if a.Name != "" {
			v.Attachments = append(v.Attachments, a.Name)
		}
	}
	return v
}

func firstWords(s string, n int) string {
	f := strings.Fields(s)
	if len(f) > n {
		f = append(f[:n], "…")
	}
	return strings.Join(f, " ")
}

// errNoTeamsSnapshot: the backup holds no conversations of the team.
var errNoTeamsSnapshot = errors.New("the backup holds no conversations of this team")
