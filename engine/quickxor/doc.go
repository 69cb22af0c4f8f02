// Package quickxor implements QuickXorHash, the content hash OneDrive for
// Business and SharePoint report for every file (the "quickXorHash" facet of
// a driveItem), so a backup can verify a download on the fly without a
// second pass over the bytes.
//
// The algorithm, as Microsoft describes it, keeps a 160-bit vector. Input
// byte i is XORed into the vector rotated left by 11*i bits (wrapping around
// at 160), the vector is serialised as 20 little-endian bytes, and finally the
// total input length, as a 64-bit little-endian integer, is XORed into the
// last 8 of those bytes. OneDrive shows the result in standard base64, e.g.
// "AAAAAAAAAAAAAAAAAAAAAAAAAAA=" for an empty file.
//
// It is not a cryptographic hash: it detects accidental corruption in
// transit, nothing more. The package owns only the hash; deciding which hash
// a drive offers and comparing it is engine/backup's job.
package quickxor
