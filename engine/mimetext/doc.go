// Package mimetext reads what a person reads in an email from its MIME:
// the body as plain text (HTML turned into text when there is no plain
// part), the attachments with their decoded sizes, and RFC 2047 header
// words. It streams the message, tolerates malformed and hostile input
// (bounded nesting, part count and body size) and never fails: whatever
// cannot be read is left out. The restore preview and the search index of
// a backup both use it.
package mimetext
