// Package teamsexport writes a team channel's conversation, as a backup
// kept it, to one self-contained HTML file that opens in any browser
// without network access: messages and replies in the order people wrote
// them, who and when, mentions, reactions, links to the files they
// reference and inline images embedded. Message bodies are outside input:
// they are reduced to a small set of harmless tags and everything else is
// escaped, so no script, style or remote resource ever comes through.
package teamsexport
