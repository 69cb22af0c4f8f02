package repo

// readmeText is written as README.txt into every new repository, for
// whoever finds the folder years from now — possibly not the person who
// set it up. Plain words, no jargon, CRLF-free ASCII so any editor opens it.
const readmeText = `LIFEBOAT BACKUP
===============

This folder is a backup made by Lifeboat. It holds copies of Microsoft 365
mail and OneDrive files.

Everything in it is encrypted. Without the recovery key, the files in this
folder are unreadable - that is on purpose, so a lost or stolen drive does
not leak anything. Do not rename, edit or delete anything in this folder:
the backup needs every file exactly as it is.

HOW TO GET YOUR DATA BACK
1. Install Lifeboat on any Windows or Mac computer.
2. Connect this drive (or share) to that computer.
3. Start Lifeboat and choose "Open an existing backup".
4. Select this folder.
5. Type the recovery key. It was shown once when the backup was set up and
   looks like this (7 groups of 5 letters and digits):

       XXXXX-XXXXX-XXXXX-XXXXX-XXXXX-XXXXX-XXXXX

   Upper or lower case does not matter. Lifeboat tells you if a character
   looks mistyped.
6. Browse or search, and restore what you need.

If the recovery key is lost and no computer that ran this backup is left,
the data cannot be recovered by anyone.

FOR TECHNICAL READERS
The format is documented in FORMAT.md in Lifeboat's source code
(engine/repo/FORMAT.md): XChaCha20-Poly1305 encryption, Argon2id key
derivation, zstd compression, content-defined chunking, pack files.
`
