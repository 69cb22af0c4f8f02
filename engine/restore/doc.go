// Package restore puts backed-up mail and files back (DESIGN.md section 5,
// issue #6): into their original place in the mailbox or OneDrive, into a
// new "Restored by Lifeboat <date>" folder there, or into a folder on this
// computer.
//
// A restore is two steps that share one plan. Plan looks at the
// destination and decides, for every item, what will happen: create,
// rename (keep both, "name (1).ext"), overwrite or skip. A dry run stops
// there and shows the plan; Execute carries out exactly that plan with a
// few parallel workers (Graph's pacer keeps each mailbox within its
// limits), reports progress, and records each finished item in a small
// journal so that an interrupted restore, run again, does not do anything
// twice.
//
// Writing to disk never leaves the chosen folder: every file is opened
// relative to an os.Root (so neither ".." nor a symlink can lead outside
// it), names are made safe for Windows, macOS and Linux (SafeName), and
// each file is written under a temporary name, synced, given its original
// modification time and only then given its final name.
//
// Mail goes back through Graph as a non-draft message with its dates,
// read state, flag, categories and importance (graph.Client.ImportMessage);
// files are uploaded with their created and modified times.
//
// Content is read from the repository as the catalog records it
// (backup.DecodeContent, repo.OpenStream); the catalog and the repository
// are treated as untrusted input like anything else read from a drive.
package restore
