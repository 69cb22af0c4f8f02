package service

import (
	"github.com/lifeboat-backup/lifeboat/engine/backup"
	"github.com/lifeboat-backup/lifeboat/engine/catalog"
)

// linkNote is how a preview lists a link to a file attached to an email.
const linkNote = " (a link to a file in OneDrive; the backup keeps its name, not the file)"

// addLinks lists an email's links to files (backup.Link) after its
// attachments: they are not in its MIME, so only the catalog knows them.
func addLinks(v catalog.VersionInfo, pv *Preview) {
	meta, err := backup.ParseMailMetadata(v.Metadata)
	if err != nil {
		return
	}
	for _, l := range meta.Links {
		pv.Attachments = append(pv.Attachments, PreviewAttachment{Name: l.Name + linkNote, Link: true})
	}
}
