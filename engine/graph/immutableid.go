package graph

import (
	"net/http"
	"strings"
)

// immutablePrefer asks Outlook for immutable IDs: IDs that do not change
// when a message moves to another folder of the mailbox
// (learn.microsoft.com/graph/outlook-immutable-id). The header applies only
// to the request that carries it, so every mailbox request carries it; see
// doc.go for why Lifeboat uses them.
const immutablePrefer = `IdType="ImmutableId"`

// preferImmutableIDs adds the preference unless the request states an ID
// type already.
func preferImmutableIDs(h http.Header) {
	for _, v := range h.Values("Prefer") {
		if strings.Contains(strings.ToLower(v), "idtype") {
			return
		}
	}
	h.Add("Prefer", immutablePrefer)
}
