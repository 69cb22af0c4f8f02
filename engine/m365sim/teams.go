package m365sim

// Teams: teams, their channels and the channels' conversations, as Graph
// v1.0 serves them to an application.
//
// Sources:
//   - team list (GET /teams, application Team.ReadBasic.All):
//     https://learn.microsoft.com/graph/api/teams-list?view=graph-rest-1.0
//   - channel list (GET /teams/{id}/channels; membershipType standard,
//     private, shared; an application sees every channel):
//     https://learn.microsoft.com/graph/api/channel-list?view=graph-rest-1.0
//   - channel messages (root messages only, $top up to 50, @odata.nextLink),
//     replies: https://learn.microsoft.com/graph/api/channel-list-messages?view=graph-rest-1.0,
//     https://learn.microsoft.com/graph/api/chatmessage-list-replies?view=graph-rest-1.0
//   - delta of a channel's messages ("Delta will only return messages
//     within the last eight months"; older ones through GET .../messages):
//     https://learn.microsoft.com/graph/api/chatmessage-delta?view=graph-rest-1.0
//   - chatMessage (from.user, createdDateTime, body contentType html,
//     mentions with <at id="n"> in the body, reactions, attachments with
//     contentType "reference" and <attachment id> in the body):
//     https://learn.microsoft.com/graph/api/resources/chatmessage?view=graph-rest-1.0
//   - hosted contents (inline images; the body's <img src> is the
//     .../hostedContents/{id}/$value URL):
//     https://learn.microsoft.com/graph/api/chatmessagehostedcontent-get?view=graph-rest-1.0
//   - protected APIs: reading channel messages with application permissions
//     needs Microsoft's approval; without it Graph answers 403 "Invoked API
//     requires Protected API access in application-only context when not
//     using Resource Specific Consent."
//     https://learn.microsoft.com/graph/teams-protected-apis
//
// A reply changes its thread: the simulator moves the root message's
// lastModifiedDateTime and lists the root in the next delta round, which is
// how a client learns that a thread has new replies.

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrNoTeam is returned for an unknown team, channel or message.
var ErrNoTeam = errors.New("m365sim: no such team, channel or message")

// Channel membership types (channel.membershipType).
const (
	ChannelStandard = "standard"
	ChannelPrivate  = "private"
	ChannelShared   = "shared"
)

// teamDeltaWindow is how far back a channel's first delta round reaches.
const teamDeltaWindow = 8 * 30 * 24 * time.Hour

// Team is a Microsoft 365 group with Teams on it.
type Team struct {
	ID          string
	DisplayName string
	Description string
	Created     time.Time
	channels    []*Channel
}

// Channel is one channel of a team.
type Channel struct {
	ID             string
	DisplayName    string
	MembershipType string
	Created        time.Time
	messages       []*ChatMessage // root messages, oldest first
}

// ChatMessage is a root message or a reply.
type ChatMessage struct {
	ID        string
	ReplyToID string
	From      *User
	Created   time.Time
	Modified  time.Time
	Subject   string
	HTML      string // the author's text (HTML); mentions, files and images are added around it
	mentions  []*User
	files     []FileLink
	hosted    []hostedContent
	reactions []reaction
	replies   []*ChatMessage
	seq       int64 // last change, for delta
}

// FileLink is a file a message links to (an attachment of contentType
// "reference": the file stays in SharePoint or OneDrive).
type FileLink struct {
	Name, URL string
}

type hostedContent struct {
	id, contentType string
	data            []byte
}

type reaction struct {
	kind string
	user *User
	at   time.Time
}

// PostOptions describes a message to post.
type PostOptions struct {
	Subject string
	// HTML is the message text as Teams stores it (HTML; hostile input for
	// a client like any other).
	HTML string
	// Mention are the people @mentioned (UPNs), named before the text.
	Mention []string
	Files   []FileLink
	// Images are inline images (PNG), served as hosted contents.
	Images [][]byte
	// At is when it was written; default now.
	At time.Time
}

// teamsState is the tenant's teams and the protected-API knob.
type teamsState struct {
	list []*Team
	// refused: the application is not approved for the protected Teams
	// APIs, so app-only reads of channel messages answer 403.
	refused bool
	lastMsg int64
	// groups are the Microsoft 365 groups, a team's among them (groupconv.go).
	groups []*Group
}

// AddTeam creates a team with its General channel.
func (t *Tenant) AddTeam(name, description string) (*Team, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now().UTC()
	tm := &Team{ID: newGUID(), DisplayName: name, Description: description, Created: now}
	tm.channels = append(tm.channels, &Channel{ID: newChannelID(), DisplayName: "General", MembershipType: ChannelStandard, Created: now})
	t.teams.list = append(t.teams.list, tm)
	t.teams.groups = append(t.teams.groups, &Group{ID: tm.ID, DisplayName: name, Mail: groupMail(name, t.Domain), team: true})
	t.bump()
	return tm, nil
}

// AddChannel adds a channel (ChannelStandard, ChannelPrivate or
// ChannelShared) to a team.
func (t *Tenant) AddChannel(teamID, name, membership string) (*Channel, error) {
	switch membership {
	case ChannelStandard, ChannelPrivate, ChannelShared:
	default:
		return nil, fmt.Errorf("m365sim: unknown channel membership type %q", membership)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	tm := t.teamLocked(teamID)
	if tm == nil {
		return nil, ErrNoTeam
	}
	c := &Channel{ID: newChannelID(), DisplayName: name, MembershipType: membership, Created: t.now().UTC()}
	tm.channels = append(tm.channels, c)
	t.bump()
	return c, nil
}

// Teams returns the teams.
func (t *Tenant) Teams() []*Team {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return append([]*Team(nil), t.teams.list...)
}

// Channels returns a team's channels.
func (t *Tenant) Channels(teamID string) []*Channel {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if tm := t.teamLocked(teamID); tm != nil {
		return append([]*Channel(nil), tm.channels...)
	}
	return nil
}

// ChannelCounts returns how many root messages and replies a channel holds.
func (t *Tenant) ChannelCounts(teamID, channelID string) (messages, replies int) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	_, c := t.channelLocked(teamID, channelID)
	if c == nil {
		return 0, 0
	}
	for _, m := range c.messages {
		replies += len(m.replies)
	}
	return len(c.messages), replies
}

// RefuseProtectedTeamsAPIs sets the knob: on, the application is not
// approved for Teams' protected APIs and app-only channel message reads
// answer 403 as Microsoft words it.
func (t *Tenant) RefuseProtectedTeamsAPIs(on bool) {
	t.mu.Lock()
	t.teams.refused = on
	t.mu.Unlock()
}

// PostMessage posts a root message in a channel as the user (UPN).
func (t *Tenant) PostMessage(teamID, channelID, from string, o PostOptions) (*ChatMessage, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, c := t.channelLocked(teamID, channelID)
	if c == nil {
		return nil, ErrNoTeam
	}
	m, err := t.newChatMessageLocked(from, o)
	if err != nil {
		return nil, err
	}
	c.messages = append(c.messages, m)
	return m, nil
}

// PostReply replies to a root message.
func (t *Tenant) PostReply(teamID, channelID, messageID, from string, o PostOptions) (*ChatMessage, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, c := t.channelLocked(teamID, channelID)
	root := c.messageLocked(messageID)
	if root == nil {
		return nil, ErrNoTeam
	}
	m, err := t.newChatMessageLocked(from, o)
	if err != nil {
		return nil, err
	}
	m.ReplyToID = root.ID
	root.replies = append(root.replies, m)
	root.seq, root.Modified = m.seq, maxTime(root.Modified, m.Created)
	return m, nil
}

// React adds a reaction ("like", "heart", "laugh", "surprised", "sad",
// "angry") by the user to a message or reply (replyID "" for the root).
func (t *Tenant) React(teamID, channelID, messageID, replyID, upn, kind string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	u, err := t.userLocked(upn)
	if err != nil {
		return err
	}
	_, c := t.channelLocked(teamID, channelID)
	root := c.messageLocked(messageID)
	if root == nil {
		return ErrNoTeam
	}
	m := root
	if replyID != "" {
		m = nil
		for _, r := range root.replies {
			if r.ID == replyID {
				m = r
			}
		}
		if m == nil {
			return ErrNoTeam
		}
	}
	now := t.now().UTC()
	m.reactions = append(m.reactions, reaction{kind: kind, user: u, at: now})
	m.Modified = now
	m.seq = t.bump()
	root.seq, root.Modified = m.seq, now
	return nil
}

func (t *Tenant) newChatMessageLocked(from string, o PostOptions) (*ChatMessage, error) {
	u, err := t.userLocked(from)
	if err != nil {
		return nil, err
	}
	at := o.At
	if at.IsZero() {
		at = t.now()
	}
	at = at.UTC().Truncate(time.Millisecond)
	// Message IDs are the creation time in milliseconds, unique within a
	// channel.
	id := at.UnixMilli()
	if id <= t.teams.lastMsg {
		id = t.teams.lastMsg + 1
	}
	t.teams.lastMsg = id
	m := &ChatMessage{ID: strconv.FormatInt(id, 10), From: u, Created: at, Modified: at, Subject: o.Subject, HTML: o.HTML, files: o.Files}
	for _, upn := range o.Mention {
		mu, err := t.userLocked(upn)
		if err != nil {
			return nil, err
		}
		m.mentions = append(m.mentions, mu)
	}
	for i, img := range o.Images {
		hid := base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("id=x_%d-%s,type=1,url=", i, m.ID)))
		m.hosted = append(m.hosted, hostedContent{id: hid, contentType: "image/png", data: append([]byte(nil), img...)})
	}
	m.seq = t.bump()
	return m, nil
}

func (t *Tenant) teamLocked(id string) *Team {
	for _, tm := range t.teams.list {
		if strings.EqualFold(tm.ID, id) {
			return tm
		}
	}
	return nil
}

func (t *Tenant) channelLocked(teamID, channelID string) (*Team, *Channel) {
	tm := t.teamLocked(teamID)
	if tm == nil {
		return nil, nil
	}
	for _, c := range tm.channels {
		if c.ID == channelID {
			return tm, c
		}
	}
	return tm, nil
}

func (c *Channel) messageLocked(id string) *ChatMessage {
	if c == nil {
		return nil
	}
	for _, m := range c.messages {
		if m.ID == id {
			return m
		}
	}
	return nil
}

func newChannelID() string {
	return "19:" + strings.ReplaceAll(newGUID(), "-", "") + "@thread.tacv2"
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// HostedContentIDs are the IDs of the message's inline images.
func (m *ChatMessage) HostedContentIDs() []string {
	var ids []string
	for _, h := range m.hosted {
		ids = append(ids, h.id)
	}
	return ids
}

// ChannelMessages returns a channel's root messages (oldest first) and each
// one's replies.
func (t *Tenant) ChannelMessages(teamID, channelID string) (roots []*ChatMessage, replies map[string][]*ChatMessage) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	_, c := t.channelLocked(teamID, channelID)
	if c == nil {
		return nil, nil
	}
	replies = map[string][]*ChatMessage{}
	for _, m := range c.messages {
		roots = append(roots, m)
		replies[m.ID] = append([]*ChatMessage(nil), m.replies...)
	}
	return roots, replies
}
