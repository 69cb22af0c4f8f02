package m365sim

import (
	"net/http"
	"regexp"
	"strings"
)

// Query options are checked as Graph checks them, so that a misspelt
// property fails in the tests rather than at the first customer:
//   - $select and $expand name properties of the resource; an unknown one
//     is answered 400 ("Could not find a property named 'x' on type
//     'microsoft.graph.message'"): learn.microsoft.com/graph/query-parameters,
//     and the v1.0 resource pages (message, mailFolder, user, drive,
//     driveItem, attachment) for the property lists below;
//   - message: delta supports $filter only as "receivedDateTime ge|gt
//     {value}" and $orderby only as "receivedDateTime desc"; $search is not
//     supported (learn.microsoft.com/graph/delta-query-messages,
//     "Supported query parameters"); mailFolder: delta takes neither;
//     driveItem: delta supports $select, $expand and $top only
//     (driveItem: delta, "Optional query parameters").

var resourceProps = map[string]string{
	"message": "id categories changeKey createdDateTime lastModifiedDateTime bccRecipients body bodyPreview ccRecipients conversationId " +
		"conversationIndex flag from hasAttachments importance inferenceClassification internetMessageHeaders internetMessageId " +
		"isDeliveryReceiptRequested isDraft isRead isReadReceiptRequested parentFolderId receivedDateTime replyTo sender sentDateTime " +
		"subject toRecipients uniqueBody webLink",
	"message/nav":    "attachments extensions multiValueExtendedProperties singleValueExtendedProperties",
	"mailFolder":     "id childFolderCount displayName isHidden parentFolderId totalItemCount unreadItemCount",
	"mailFolder/nav": "childFolders messageRules messages multiValueExtendedProperties singleValueExtendedProperties",
	"user": "id aboutMe accountEnabled ageGroup assignedLicenses assignedPlans authorizationInfo birthday businessPhones city companyName " +
		"consentProvidedForMinor country createdDateTime creationType customSecurityAttributes deletedDateTime department displayName " +
		"employeeHireDate employeeId employeeLeaveDateTime employeeOrgData employeeType externalUserState externalUserStateChangeDateTime " +
		"faxNumber givenName hireDate identities imAddresses interests isResourceAccount jobTitle lastPasswordChangeDateTime " +
		"legalAgeGroupClassification licenseAssignmentStates mail mailboxSettings mailNickname mobilePhone mySite officeLocation " +
		"onPremisesDistinguishedName onPremisesDomainName onPremisesExtensionAttributes onPremisesImmutableId onPremisesLastSyncDateTime " +
		"onPremisesProvisioningErrors onPremisesSamAccountName onPremisesSecurityIdentifier onPremisesSyncEnabled onPremisesUserPrincipalName " +
		"otherMails passwordPolicies passwordProfile pastProjects postalCode preferredDataLocation preferredLanguage preferredName " +
		"provisionedPlans proxyAddresses responsibilities schools securityIdentifier serviceProvisioningErrors showInAddressList " +
		"signInActivity signInSessionsValidFromDateTime skills state streetAddress surname usageLocation userPrincipalName userType",
	"user/nav": "drive drives mailFolders messages memberOf manager directReports photo extensions calendar events contacts contactFolders",
	"drive": "id createdBy createdDateTime description driveType lastModifiedBy lastModifiedDateTime name owner quota sharePointIds " +
		"system webUrl parentReference eTag",
	"drive/nav": "items root special following list bundles",
	"driveItem": "id audio bundle cTag deleted description eTag file fileSystemInfo folder image location malware name package " +
		"parentReference pendingOperations photo publication remoteItem root searchResult shared sharepointIds size specialFolder " +
		"video webDavUrl webUrl createdBy createdDateTime lastModifiedBy lastModifiedDateTime @microsoft.graph.downloadUrl " +
		"content.downloadUrl retentionLabel",
	"driveItem/nav":  "children permissions thumbnails versions listItem analytics activities subscriptions workbook",
	"attachment":     "id contentType isInline lastModifiedDateTime name size contentBytes contentId contentLocation sourceUrl providerType permission isFolder",
	"attachment/nav": "item",
	// calendar, event, contactFolder, contact: their v1.0 resource pages
	// (and msgraph-sdk-go's v1.0 models, generated from the v1.0 metadata).
	"calendar": "id allowedOnlineMeetingProviders canEdit canShare canViewPrivateItems changeKey color defaultOnlineMeetingProvider " +
		"hexColor isDefaultCalendar isRemovable isTallyingResponses name owner",
	"calendar/nav": "calendarPermissions calendarView events multiValueExtendedProperties singleValueExtendedProperties",
	"event": "id allowNewTimeProposals attendees body bodyPreview cancelledOccurrences categories changeKey createdDateTime end hasAttachments " +
		"hideAttendees iCalUId importance isAllDay isCancelled isDraft isOnlineMeeting isOrganizer isReminderOn lastModifiedDateTime " +
		"location locations onlineMeeting onlineMeetingProvider onlineMeetingUrl organizer originalEndTimeZone originalStart " +
		"originalStartTimeZone recurrence reminderMinutesBeforeStart responseRequested responseStatus sensitivity seriesMasterId " +
		"showAs start subject transactionId type webLink",
	"event/nav":         "attachments calendar exceptionOccurrences extensions instances multiValueExtendedProperties singleValueExtendedProperties",
	"contactFolder":     "id displayName parentFolderId",
	"contactFolder/nav": "childFolders contacts multiValueExtendedProperties singleValueExtendedProperties",
	"contact": "id assistantName birthday businessAddress businessHomePage businessPhones categories changeKey children companyName " +
		"createdDateTime department displayName emailAddresses fileAs generation givenName homeAddress homePhones imAddresses initials " +
		"jobTitle lastModifiedDateTime manager middleName mobilePhone nickName officeLocation otherAddress parentFolderId personalNotes " +
		"profession spouseName surname title yomiCompanyName yomiGivenName yomiSurname",
	"contact/nav": "extensions multiValueExtendedProperties photo singleValueExtendedProperties",
}

// queryResource says which resource type a Graph path returns, and
// whether it is a delta query.
func queryResource(path string) (typ string, delta bool) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	last := parts[len(parts)-1]
	delta = strings.HasPrefix(last, "delta")
	in := func(s string) bool {
		for _, p := range parts {
			if p == s {
				return true
			}
		}
		return false
	}
	switch {
	case in("mailboxSettings"):
		return "", false // a complex property, not an entity: $select names its members
	case in("attachments"):
		return "attachment", false
	case in("messages"):
		return "message", delta
	case in("events") || in("calendarView") || in("instances"):
		return "event", delta
	case in("calendars") || in("calendar"):
		return "calendar", delta
	case in("contacts"):
		return "contact", delta
	case in("contactFolders"):
		return "contactFolder", delta
	case in("mailFolders") || in("childFolders"):
		return "mailFolder", delta
	case parts[0] == "drives" && len(parts) == 2, parts[len(parts)-1] == "drive", last == "drives":
		return "drive", false
	case in("drive") || parts[0] == "drives":
		return "driveItem", delta
	case parts[0] == "me", parts[0] == "users":
		return "user", false
	}
	return "", false
}

var deltaMessageFilter = regexp.MustCompile(`^\s*receivedDateTime\s+(ge|gt)\s+\S+\s*$`)

// checkQuery answers 400 and returns false for query options Graph would
// refuse on this request.
func (s *Server) checkQuery(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodGet {
		return true
	}
	typ, delta := queryResource(strings.TrimPrefix(r.URL.Path, "/v1.0"))
	if typ == "" || strings.HasSuffix(r.URL.Path, "/$value") || strings.HasSuffix(r.URL.Path, "/content") {
		return true
	}
	q := r.URL.Query()
	bad := func(msg string) bool {
		writeGraphError(w, http.StatusBadRequest, "BadRequest", msg)
		return false
	}
	check := func(list, kind string) bool {
		if list == "" {
			return true
		}
		known := " " + resourceProps[kind] + " "
		for _, f := range strings.Split(list, ",") {
			f = strings.TrimSpace(f)
			if i := strings.IndexAny(f, "($"); kind == typ+"/nav" && i > 0 {
				f = f[:i] // $expand=attachments($select=name)
			}
			if cast, rest, ok := strings.Cut(f, "/"); ok && kind == typ+"/nav" && strings.HasPrefix(strings.ToLower(cast), "microsoft.graph.") {
				f = rest // $expand=microsoft.graph.itemattachment/item (attachment-get.md, example 3)
			}
			if f == "" || !strings.Contains(strings.ToLower(known), " "+strings.ToLower(f)+" ") {
				return bad("Could not find a property named '" + f + "' on type 'microsoft.graph." + typ + "'.")
			}
		}
		return true
	}
	if !check(q.Get("$select"), typ) || !check(q.Get("$expand"), typ+"/nav") {
		return false
	}
	if !delta {
		return true
	}
	switch typ {
	case "message":
		if f := q.Get("$filter"); f != "" && !deltaMessageFilter.MatchString(f) {
			return bad("The only $filter message delta supports is receivedDateTime ge or gt a date.")
		}
		if o := q.Get("$orderby"); o != "" && !strings.EqualFold(strings.Join(strings.Fields(o), " "), "receivedDateTime desc") {
			return bad("The only $orderby message delta supports is receivedDateTime desc.")
		}
		if q.Get("$search") != "" {
			return bad("$search is not supported on delta.")
		}
	default:
		for _, k := range []string{"$filter", "$orderby", "$search"} {
			if q.Get(k) != "" {
				return bad("The query option " + k + " is not supported on " + typ + " delta.")
			}
		}
	}
	return true
}
