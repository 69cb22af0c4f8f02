// Package people is the company's people for organization mode (DESIGN.md
// section 9): who is in the directory, what kind of mailbox each has and
// whether there is a OneDrive, read from Microsoft Graph with an app-only
// token; and the roster Lifeboat keeps of them, which notices new people
// and marks those who left the company (deleted, turned off, unlicensed,
// or turned into a shared mailbox) with the date.
//
// Nobody is dropped for being disabled or unlicensed: a former employee's
// mailbox converted to a shared mailbox is exactly that, and is exactly who
// must not be dropped.
package people
