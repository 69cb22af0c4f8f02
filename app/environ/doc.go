// Package environ turns Lifeboat's environment variables and global
// command-line choices into the application layer's options: where the
// config folder is, which keychain keeps the keys, which tenant to talk
// to, which application (client) ID signs in, how much to log. Both front
// ends (app/cli and app/gui) start from it, so a scheduled run, a command
// and the app see the same settings.
package environ
