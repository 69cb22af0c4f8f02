// Package report writes the optional e-mail report of a scheduled backup
// and sends it through Microsoft Graph (user: sendMail) from the signed-in
// account to itself. Sending needs the Mail.Send permission, which
// Lifeboat asks for only when the owner turns the report on.
package report
