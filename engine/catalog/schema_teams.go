package catalog

import "strings"

// schemaV3 admits Teams snapshots and their items (channel messages and
// replies): schemaV2's rebuild of the three tables with the CHECK
// constraints widened, as SQLite cannot change them in place.
var schemaV3 = strings.NewReplacer(
	"_v2", "_v3",
	"'mail','onedrive','calendar','contacts'", "'mail','onedrive','calendar','contacts','teams','groupmail'",
	"'mail','file','event','contact'", "'mail','file','event','contact','chatmessage','grouppost'",
).Replace(schemaV2)
