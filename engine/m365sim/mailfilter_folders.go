package m365sim

import "strings"

// filterFolders applies $filter to a mail folder list. List mailFolders
// "supports the OData query parameters" (user-list-mailfolders.md); the
// simulator knows the form clients send to find a folder by name,
//
//	displayName eq 'Name'
//
// (CLI for Microsoft 365 does: `outlook message list --folderName`), with a
// string value matched case-insensitively as Exchange does. Any other
// filter answers 400 rather than being ignored: a silently ignored filter
// hands a client every folder as if each one matched.
func filterFolders(fs []*MailFolder, filter string) ([]*MailFolder, error) {
	toks, err := filterTokens(filter)
	if err != nil {
		return nil, err
	}
	if len(toks) != 3 || toks[0].lit || !strings.EqualFold(toks[0].s, "displayName") ||
		toks[1].lit || !strings.EqualFold(toks[1].s, "eq") || !toks[2].lit {
		return nil, invalid("ErrorInvalidUrlQueryFilter", "The simulator supports only displayName eq '…' in $filter on mail folders.")
	}
	var out []*MailFolder
	for _, f := range fs {
		if strings.EqualFold(f.DisplayName, toks[2].s) {
			out = append(out, f)
		}
	}
	return out, nil
}
