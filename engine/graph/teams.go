package graph

// Teams: the teams of the organization, their channels and the channels'
// conversations, read as Graph's own JSON (a backup keeps messages as
// served). Listing teams and channels needs Team.ReadBasic.All and
// Channel.ReadBasic.All; reading messages with application permissions
// is one of Teams' protected APIs: it needs ChannelMessage.Read.All and
// Microsoft's approval of the application, else 403
// (learn.microsoft.com/graph/teams-protected-apis). Channel message delta
// reaches back about eight months (chatmessage-delta), so a first backup
// lists every message instead.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// teamsPage is $top of message and reply listings: their largest page.
const teamsPage = 50

// Team is one team.
type Team struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	Description string `json:"description"`
}

// Channel is one channel of a team.
type Channel struct {
	ID             string `json:"id"`
	DisplayName    string `json:"displayName"`
	MembershipType string `json:"membershipType"`
}

// ProtectedAPIRefused says whether err is Teams' refusal of an application
// Microsoft has not approved for the protected APIs.
func ProtectedAPIRefused(err error) bool {
	var ge *Error
	return errors.As(err, &ge) && ge.Status == 403 && strings.Contains(ge.Message, "Protected API")
}

// ListTeams returns every team of the organization.
func (c *Client) ListTeams(ctx context.Context) ([]Team, error) {
	var out []Team
	err := c.pages(ctx, "list teams", "/teams?$select=id,displayName,description", func(vs []json.RawMessage) error {
		for _, v := range vs {
			var t Team
			if json.Unmarshal(v, &t) == nil && t.ID != "" {
				out = append(out, t)
			}
		}
		return nil
	})
	return out, err
}

func channelPath(teamID, channelID string) string {
	return "/teams/" + url.PathEscape(teamID) + "/channels/" + url.PathEscape(channelID)
}

// ListChannels returns a team's channels (standard, private and shared).
func (c *Client) ListChannels(ctx context.Context, teamID string) ([]Channel, error) {
	var out []Channel
	err := c.pages(ctx, "list channels", "/teams/"+url.PathEscape(teamID)+"/channels", func(vs []json.RawMessage) error {
		for _, v := range vs {
			var ch Channel
			if json.Unmarshal(v, &ch) == nil && ch.ID != "" {
				out = append(out, ch)
			}
		}
		return nil
	})
	return out, err
}

// ListChannelMessages hands every root message of a channel to fn, newest
// first, as Graph served each.
func (c *Client) ListChannelMessages(ctx context.Context, teamID, channelID string, fn func([]json.RawMessage) error) error {
	return c.pages(ctx, "list channel messages", fmt.Sprintf("%s/messages?$top=%d", channelPath(teamID, channelID), teamsPage), fn)
}

// ListReplies returns a message's replies as Graph served them.
func (c *Client) ListReplies(ctx context.Context, teamID, channelID, messageID string) ([]json.RawMessage, error) {
	var out []json.RawMessage
	err := c.pages(ctx, "list replies", fmt.Sprintf("%s/messages/%s/replies?$top=%d", channelPath(teamID, channelID), url.PathEscape(messageID), teamsPage),
		func(vs []json.RawMessage) error { out = append(out, vs...); return nil })
	return out, err
}

// ChannelMessageDelta runs one round of a channel's message delta, from
// the start when deltaLink is empty, handing changed root messages to fn;
// it returns the next round's link.
func (c *Client) ChannelMessageDelta(ctx context.Context, teamID, channelID, deltaLink string, fn func([]json.RawMessage) error) (string, error) {
	link := deltaLink
	if link == "" {
		link = channelPath(teamID, channelID) + "/messages/delta"
	}
	for n := 0; ; n++ {
		b, err := c.getJSON(ctx, "channel message delta", link)
		if err != nil {
			return "", err
		}
		var page struct {
			Value []json.RawMessage `json:"value"`
			Next  string            `json:"@odata.nextLink"`
			Delta string            `json:"@odata.deltaLink"`
		}
		if err := json.Unmarshal(b, &page); err != nil {
			return "", &Error{Op: "channel message delta", Kind: ErrTransient, Err: fmt.Errorf("the answer is not a delta page: %w", err)}
		}
		if err := fn(page.Value); err != nil {
			return "", err
		}
		if page.Delta != "" {
			return page.Delta, nil
		}
		if page.Next == "" || page.Next == link || n > 100000 {
			return "", &Error{Op: "channel message delta", Err: errors.New("page has neither a usable nextLink nor a deltaLink")}
		}
		link = page.Next
	}
}

// GetHostedContent downloads an inline image of a message: rawURL is the
// .../hostedContents/{id}/$value URL the message body names, which must
// be a Graph URL (a message body is outside input).
func (c *Client) GetHostedContent(ctx context.Context, rawURL string) ([]byte, error) {
	u, err := url.Parse(rawURL)
	if err != nil || !c.isGraphURL(u) || !strings.HasSuffix(u.Path, "/$value") || !strings.Contains(u.Path, "/hostedContents/") {
		return nil, &Error{Op: "get hosted content", Err: errors.New("not a hosted content URL of Microsoft Graph")}
	}
	return c.getJSON(ctx, "get hosted content", u.String())
}

// Group is a Microsoft 365 group, whose mailbox holds conversations.
type Group struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	Mail        string `json:"mail"`
}

// GroupThread is what a thread listing says of a thread.
type GroupThread struct {
	ID            string `json:"id"`
	Topic         string `json:"topic"`
	LastDelivered string `json:"lastDeliveredDateTime"`
}

// ListGroups returns the Microsoft 365 groups (groupTypes Unified).
func (c *Client) ListGroups(ctx context.Context) ([]Group, error) {
	var out []Group
	err := c.pages(ctx, "list groups", "/groups?$filter="+url.QueryEscape("groupTypes/any(c:c eq 'Unified')")+"&$select=id,displayName,mail", func(vs []json.RawMessage) error {
		for _, v := range vs {
			var g Group
			if json.Unmarshal(v, &g) == nil && g.ID != "" {
				out = append(out, g)
			}
		}
		return nil
	})
	return out, err
}

// ListGroupThreads returns a group's threads.
func (c *Client) ListGroupThreads(ctx context.Context, groupID string) ([]GroupThread, error) {
	var out []GroupThread
	err := c.pages(ctx, "list group threads", "/groups/"+url.PathEscape(groupID)+"/threads", func(vs []json.RawMessage) error {
		for _, v := range vs {
			var t GroupThread
			if json.Unmarshal(v, &t) == nil && t.ID != "" {
				out = append(out, t)
			}
		}
		return nil
	})
	return out, err
}

// ListThreadPosts returns a thread's posts as Graph served them.
func (c *Client) ListThreadPosts(ctx context.Context, groupID, threadID string) ([]json.RawMessage, error) {
	var out []json.RawMessage
	err := c.pages(ctx, "list thread posts", "/groups/"+url.PathEscape(groupID)+"/threads/"+url.PathEscape(threadID)+"/posts",
		func(vs []json.RawMessage) error { out = append(out, vs...); return nil })
	return out, err
}
