// Package conformance replays Microsoft's published request and response
// examples against the simulated tenant (engine/m365sim): the v1.0
// reference pages of Microsoft Graph and the identity platform's pages on
// the device code flow, tokens, OpenID discovery and errors. Each example
// is a case file under testdata/ that names the page it comes from; the
// simulator must answer with the documented status, headers and JSON shape
// (property names and types, @odata annotations, next and delta links,
// error bodies).
//
// # Adding a case
//
// Copy the example from the page into a new file
// testdata/<area>/<endpoint>-<what>.json (area: graph, identity, or a new
// one such as calendar or sites):
//
//	{
//	  "name": "List mailFolders",
//	  "doc": {
//	    "page": "https://learn.microsoft.com/graph/api/user-list-mailfolders?view=graph-rest-1.0",
//	    "source": "microsoftgraph/microsoft-graph-docs api-reference/v1.0/api/user-list-mailfolders.md@039f72d",
//	    "example": "get_mailfolders"
//	  },
//	  "steps": [{
//	    "request": {"method": "GET", "url": "graph:/me/mailFolders"},
//	    "response": {"status": 200, "headers": {"Content-Type": "application/json"},
//	                 "body": { …the documented response body, verbatim… }},
//	    "rules": {"nullable": ["/value/0/parentFolderId"]}
//	  }]
//	}
//
// The body is the documented one as published; nothing in it is edited to
// fit the simulator. It is compared by shape (matchShape in shape_test.go):
// every documented property must be there with the documented JSON type,
// more properties are fine (examples are truncated), each documented array
// element must match some actual element, documented null matches
// anything. rules adjusts that per JSON pointer: exact (the value itself
// must match, e.g. "token_type": "Bearer"), nullable (the example shows a
// value, the property is nullable and the fixture has none), absent (must
// not be there, e.g. cTag in a OneDrive for Business delta), skip (not
// modelled yet: say why in "notes", which makes it a known deviation).
//
// Request URLs start with graph: (Graph v1.0, sent with an access token for
// the fixture's signed-in user; "auth": "none" sends none), graphhost: (the
// same origin without /v1.0, e.g. /oidc/userinfo), login: (the
// identity platform's origin) or a saved {var}. {name} anywhere in a URL,
// header, form or JSON value is a fixture value (fixture_test.go:
// {userId}, {inboxId}, {messageId}, {driveId}, {fileItemId}, …) or one an
// earlier step saved ("save": {"next": "/@odata.nextLink"}, or
// "header:Location"). A step may first run a fixture action by name
// ("do": "changeDrive"); add new values and actions to fixture_test.go
// when an endpoint needs them, and keep the fixture small: every case gets
// a fresh copy.
//
// A new endpoint in the simulator also gets a line in coverage_test.go's
// endpoints table: the suite fails while any listed endpoint has no case.
//
// Where the simulator and a page disagree, fix the simulator (and Lifeboat
// if it relied on the difference). Where the page contradicts itself or
// the service, the case's notes say so and its rules record the choice.
package conformance
