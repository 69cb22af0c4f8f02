// Package sites is the list of the company's SharePoint sites Lifeboat
// keeps in organization mode (DESIGN.md section 10): every site Microsoft
// lists, with its document libraries, when it was first seen, whether the
// owner excluded it, and whether it is gone (its copies stay). Each
// library is backed up as a drive of its own, like a OneDrive.
package sites
