// Package wintz translates the Windows time zone names Outlook and
// Microsoft Graph use ("Pacific Standard Time", "W. Europe Standard Time")
// to IANA zones Go can load, and back.
//
// Graph's dateTimeTimeZone carries a Windows zone name unless the client
// asked for another with Prefer: outlook.timezone; RFC 5545 and Go want
// IANA names. The only published correspondence is Unicode CLDR's
// windowsZones.xml (common/supplemental/windowsZones.xml); this package
// keeps its world-wide default ("001") row for every Windows zone. No Go
// module that carries it is served here (yaegashi/wtz.go is refused by the
// module proxy), so the table is data kept in this package.
//
// The time zone database is embedded (time/tzdata) so Windows machines
// without a Go installation load the same zones.
package wintz
