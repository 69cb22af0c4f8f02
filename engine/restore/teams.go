package restore

// TeamsRestoreRefusal is why a channel message is not put back into
// Teams: Microsoft's import of old messages works only for a team in
// migration mode, which people cannot use meanwhile.
// (learn.microsoft.com/microsoftteams/platform/graph-api/import-messages/import-external-messages-to-teams)
const TeamsRestoreRefusal = "messages cannot be put back into Teams: Microsoft lets apps write old messages only into a team being migrated, not into one people use. Save the channel as a web page instead: lifeboat export --teams --to-dir DIR"
