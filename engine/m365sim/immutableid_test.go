package m365sim_test

import (
	"net/http"
	"testing"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
)

const preferImmutable = `IdType="ImmutableId"`

// learn.microsoft.com/graph/outlook-immutable-id: without the Prefer
// header a message's ID changes when it moves to another folder (the old
// one stops working, and each folder's delta shows the move with the ID of
// its time); with Prefer: IdType="ImmutableId" the ID stays, in both
// deltas; the header applies only to the request that carries it; folder
// IDs never change; an item exported and imported again is a new item
// with a new immutable ID.
func TestMessageIDsOnMoveWithAndWithoutImmutableIDs(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{})
	tn := srv.Tenant()
	c := newDriveRaw(t, srv, simtest.Alice)
	msgs, _ := tn.FindMessages(simtest.Alice, "Invoice 0001")
	id := msgs[0].ID
	inbox := "/me/mailFolders/inbox/messages/delta"
	_, restLink, _ := mailRound(t, c, inbox)
	// An immutable round (mailRound sends no Prefer header).
	first := c.mustGet(inbox, "Prefer", preferImmutable)
	for first["@odata.deltaLink"] == nil {
		first = c.mustGet(first["@odata.nextLink"].(string), "Prefer", preferImmutable)
	}
	immLink := first["@odata.deltaLink"].(string)

	if _, err := tn.MoveMessage(simtest.Alice, id, "archive"); err != nil {
		t.Fatal(err)
	}
	restID, err := tn.RestID(simtest.Alice, id)
	if err != nil || restID == id {
		t.Fatalf("after a move the default ID is %q (immutable %q)", restID, id)
	}
	// Default IDs: the new one works, the old one is gone.
	if got := driveStr(c.mustGet("/me/messages/"+restID+"?$select=id"), "id"); got != restID {
		t.Errorf("GET by the new ID answers id %q", got)
	}
	// Before the move the default ID was the immutable one: no longer.
	old := c.get("/me/mailFolders/inbox/messages/" + id)
	if old.status != http.StatusNotFound {
		t.Errorf("the message is still in the Inbox: %d", old.status)
	}
	// Immutable: the same ID, and both IDs are accepted.
	if got := driveStr(c.mustGet("/me/messages/"+id+"?$select=id", "Prefer", preferImmutable), "id"); got != id {
		t.Errorf("with the header the moved message has id %q, want %q", got, id)
	}
	if got := driveStr(c.mustGet("/me/messages/"+restID+"?$select=id", "Prefer", preferImmutable), "id"); got != id {
		t.Errorf("looked up by its default ID with the header: id %q", got)
	}
	// The Inbox's deltas: a removal under the ID each round knew.
	removed := func(m map[string]any) string {
		for _, v := range driveValues(m) {
			if _, ok := v["@removed"]; ok {
				return v["id"].(string)
			}
		}
		return ""
	}
	if got := removed(c.mustGet(restLink)); got != id { // id was the default ID then
		t.Errorf("default-ID delta removal %q, want %q", got, id)
	}
	if got := removed(c.mustGet(immLink, "Prefer", preferImmutable)); got != id {
		t.Errorf("immutable delta removal %q, want %q", got, id)
	}
	// The Archive's delta lists it under the ID the request asked for.
	arch := c.mustGet("/me/mailFolders/archive/messages/delta?$select=subject")
	arch2 := c.mustGet("/me/mailFolders/archive/messages/delta?$select=subject", "Prefer", preferImmutable)
	if ids := deltaIDs(arch); len(ids) != 1 || ids[0] != restID {
		t.Errorf("Archive delta without the header: %v, want [%s]", ids, restID)
	}
	if ids := deltaIDs(arch2); len(ids) != 1 || ids[0] != id {
		t.Errorf("Archive delta with the header: %v, want [%s]", ids, id)
	}
	// A second move changes the default ID again; the previous one dies.
	if _, err := tn.MoveMessage(simtest.Alice, id, "inbox"); err != nil {
		t.Fatal(err)
	}
	if r := c.get("/me/messages/" + restID); r.status != http.StatusNotFound {
		t.Errorf("a default ID from before the second move still answers %d", r.status)
	}
	// Exported and imported again: a new item, a new immutable ID.
	m, _ := tn.Message(simtest.Alice, id)
	if err := tn.DeleteMessage(simtest.Alice, id); err != nil {
		t.Fatal(err)
	}
	again, err := tn.AddMessage(simtest.Alice, "inbox", m.MIME, m365sim.MessageOptions{})
	if err != nil || again.ID == id {
		t.Fatalf("re-imported message id %v %v", again, err)
	}
}

func deltaIDs(m map[string]any) []string {
	var out []string
	for _, v := range driveValues(m) {
		out = append(out, v["id"].(string))
	}
	return out
}
