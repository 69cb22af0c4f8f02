package m365sim

import "strings"

// graphAppRole is one of Microsoft Graph's application permissions, an
// appRole of its service principal (appId 00000003-0000-0000-c000-000000000000).
type graphAppRole struct {
	ID, Value, DisplayName, Description string
}

// graphAppRoles are the Microsoft Graph application permissions the
// simulator knows, with the identifiers Microsoft publishes in the
// "Microsoft Graph permissions reference"
// (https://learn.microsoft.com/graph/permissions-reference, the
// "Application" column of each permission's Identifier row) and that
// Graph's service principal lists in appRoles. Clients must look them up by
// value; the IDs are here so that what the simulator serves is what a real
// tenant serves.
var graphAppRoles = []graphAppRole{
	{"df021288-bdef-4463-88db-98f22de89214", "User.Read.All", "Read all users' full profiles", "Allows the app to read user profiles without a signed in user."},
	{"741f803b-c850-494e-b5df-cde7c675a1ca", "User.ReadWrite.All", "Read and write all users' full profiles", "Allows the app to read and update user profiles without a signed in user."},
	{"7ab1d382-f21e-4acd-a863-ba3e13f7da61", "Directory.Read.All", "Read directory data", "Allows the app to read data in your organization's directory, such as users, groups and apps, without a signed-in user."},
	{"19dbc75e-c2e2-444c-a770-ec69d8559fc7", "Directory.ReadWrite.All", "Read and write directory data", "Allows the app to read and write data in your organization's directory, such as users, and groups, without a signed-in user. Does not allow user or group deletion."},
	{"5b567255-7703-4780-807c-7be8301ae99b", "Group.Read.All", "Read all groups", "Allows the app to read group properties and memberships, and read conversations for all groups, without a signed-in user."},
	{"693c5e45-0940-467d-9b8a-1022fb9d42ef", "Mail.ReadBasic.All", "Read basic mail in all mailboxes", "Allows the app to read basic mail properties in all mailboxes without a signed-in user. Includes all properties except body, previewBody, attachments and any extended properties."},
	{"810c84a8-4a9e-49e6-bf7d-12d183f40d01", "Mail.Read", "Read mail in all mailboxes", "Allows the app to read mail in all mailboxes without a signed-in user."},
	{"e2a3a72e-5f79-4c64-b1b1-878b674786c9", "Mail.ReadWrite", "Read and write mail in all mailboxes", "Allows the app to create, read, update, and delete mail in all mailboxes without a signed-in user. Does not include permission to send mail."},
	{"b633e1c5-b582-4048-a93e-9f11b44c7e96", "Mail.Send", "Send mail as any user", "Allows the app to send mail as any user without a signed-in user."},
	{"40f97065-369a-49f4-947c-6a255697ae91", "MailboxSettings.Read", "Read all user mailbox settings", "Allows the app to read user's mailbox settings without a signed-in user. Does not include permission to send mail."},
	{"6931bccd-447a-43d1-b442-00a195474933", "MailboxSettings.ReadWrite", "Read and write all user mailbox settings", "Allows the app to create, read, update, and delete user's mailbox settings without a signed-in user. Does not include permission to send mail."},
	{"798ee544-9d2d-430c-a058-570e29e34338", "Calendars.Read", "Read calendars in all mailboxes", "Allows the app to read events of all calendars without a signed-in user."},
	{"ef54d2bf-783f-4e0f-bca1-3210c0444d99", "Calendars.ReadWrite", "Read and write calendars in all mailboxes", "Allows the app to create, read, update, and delete events of all calendars without a signed-in user."},
	{"089fe4d0-434a-44c5-8827-41ba8a0b17f5", "Contacts.Read", "Read contacts in all mailboxes", "Allows the app to read all contacts in all mailboxes without a signed-in user."},
	{"6918b873-d17a-4dc1-b314-35f528134491", "Contacts.ReadWrite", "Read and write contacts in all mailboxes", "Allows the app to create, read, update, and delete all contacts in all mailboxes without a signed-in user."},
	{"01d4889c-1287-42c6-ac1f-5d1e02578ef6", "Files.Read.All", "Read files in all site collections", "Allows the app to read all files in all site collections without a signed in user."},
	{"75359482-378d-4052-8f01-80520e7db3cd", "Files.ReadWrite.All", "Read and write files in all site collections", "Allows the app to read, create, update and delete all files in all site collections without a signed in user."},
	{"332a536c-c7ef-4017-ab91-336970924f0d", "Sites.Read.All", "Read items in all site collections", "Allows the app to read documents and list items in all site collections without a signed in user."},
	{"9492366f-7969-46a4-8d15-ed1a20078fff", "Sites.ReadWrite.All", "Read and write items in all site collections", "Allows the app to create, read, update, and delete documents and list items in all site collections without a signed in user."},
	{"a82116e5-55eb-4c41-a434-62fe8a61c773", "Sites.FullControl.All", "Have full control of all site collections", "Allows the app to have full control of all site collections without a signed in user."},
	{"2280dda6-0bfd-44ee-a2f4-cb867cfc4c1e", "Team.ReadBasic.All", "Get a list of all teams", "Get a list of all teams, without a signed-in user."},
	{"59a6b24b-4225-4393-8165-ebaec5f55d7a", "Channel.ReadBasic.All", "Read the names and descriptions  of all channels", "Read all channel names and channel descriptions, without a signed-in user."},
	{"7b2449af-6ccd-4f4d-9f78-e550c193f0d1", "ChannelMessage.Read.All", "Read all channel messages", "Allows the app to read all channel messages in Microsoft Teams"},
	{"1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9", "Application.ReadWrite.All", "Read and write all applications", "Allows the app to create, read, update and delete applications and service principals without a signed-in user. Does not allow management of consent grants."},
	{"06b708a9-e830-4db3-a914-8e69da51d44f", "AppRoleAssignment.ReadWrite.All", "Manage app permission grants and app role assignments", "Allows the app to manage permission grants for application permissions to any API (including Microsoft Graph) and application assignments for any app, without a signed-in user."},
}

func graphAppRoleByValue(v string) (graphAppRole, bool) {
	for _, r := range graphAppRoles {
		if strings.EqualFold(r.Value, v) {
			return r, true
		}
	}
	return graphAppRole{}, false
}

func graphAppRoleByID(id string) (graphAppRole, bool) {
	for _, r := range graphAppRoles {
		if strings.EqualFold(r.ID, id) {
			return r, true
		}
	}
	return graphAppRole{}, false
}
