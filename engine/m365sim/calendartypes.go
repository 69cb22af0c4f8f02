package m365sim

import "time"

// EventProps are an event's writable properties in Graph's JSON shape.
type EventProps struct {
	Subject                    string               `json:"subject"`
	Body                       ItemBody             `json:"body"`
	Start                      DateTimeTimeZone     `json:"start"`
	End                        DateTimeTimeZone     `json:"end"`
	IsAllDay                   bool                 `json:"isAllDay"`
	Location                   EventLocation        `json:"location"`
	Locations                  []EventLocation      `json:"locations"`
	Attendees                  []EventAttendee      `json:"attendees"`
	Organizer                  *recipientJSON       `json:"organizer,omitempty"`
	Categories                 []string             `json:"categories"`
	Importance                 string               `json:"importance"`
	Sensitivity                string               `json:"sensitivity"`
	ShowAs                     string               `json:"showAs"`
	IsReminderOn               bool                 `json:"isReminderOn"`
	ReminderMinutesBeforeStart int                  `json:"reminderMinutesBeforeStart"`
	ResponseRequested          bool                 `json:"responseRequested"`
	AllowNewTimeProposals      bool                 `json:"allowNewTimeProposals"`
	HideAttendees              bool                 `json:"hideAttendees"`
	IsOnlineMeeting            bool                 `json:"isOnlineMeeting"`
	Recurrence                 *PatternedRecurrence `json:"recurrence"`
	TransactionID              string               `json:"transactionId,omitempty"`
}

// ItemBody is Graph's itemBody.
type ItemBody struct {
	ContentType string `json:"contentType"`
	Content     string `json:"content"`
}

// DateTimeTimeZone is Graph's dateTimeTimeZone: a wall-clock time and the
// zone (Windows or IANA name) it is in.
type DateTimeTimeZone struct {
	DateTime string `json:"dateTime"`
	TimeZone string `json:"timeZone"`
}

// EventLocation is Graph's location.
type EventLocation struct {
	DisplayName  string           `json:"displayName"`
	LocationType string           `json:"locationType,omitempty"`
	UniqueID     string           `json:"uniqueId,omitempty"`
	UniqueIDType string           `json:"uniqueIdType,omitempty"`
	Address      *PhysicalAddress `json:"address,omitempty"`
}

// PhysicalAddress is Graph's physicalAddress.
type PhysicalAddress struct {
	Street          string `json:"street,omitempty"`
	City            string `json:"city,omitempty"`
	State           string `json:"state,omitempty"`
	CountryOrRegion string `json:"countryOrRegion,omitempty"`
	PostalCode      string `json:"postalCode,omitempty"`
}

// EventAttendee is Graph's attendee.
type EventAttendee struct {
	Type         string `json:"type"`
	EmailAddress struct {
		Name    string `json:"name"`
		Address string `json:"address"`
	} `json:"emailAddress"`
	Status *struct {
		Response string `json:"response"`
		Time     string `json:"time"`
	} `json:"status,omitempty"`
}

// PatternedRecurrence is Graph's patternedRecurrence.
type PatternedRecurrence struct {
	Pattern struct {
		Type           string   `json:"type"`
		Interval       int      `json:"interval"`
		Month          int      `json:"month"`
		DayOfMonth     int      `json:"dayOfMonth"`
		DaysOfWeek     []string `json:"daysOfWeek,omitempty"`
		FirstDayOfWeek string   `json:"firstDayOfWeek,omitempty"`
		Index          string   `json:"index,omitempty"`
	} `json:"pattern"`
	Range struct {
		Type                string `json:"type"`
		StartDate           string `json:"startDate"`
		EndDate             string `json:"endDate,omitempty"`
		RecurrenceTimeZone  string `json:"recurrenceTimeZone,omitempty"`
		NumberOfOccurrences int    `json:"numberOfOccurrences"`
	} `json:"range"`
}

// SentMessage is a message the service sent on a mailbox's behalf because
// of a calendar change: an invitation, an update or a cancellation.
type SentMessage struct {
	Kind    string // "invitation", "update", "cancellation"
	From    string // the organizer's address
	To      []string
	Subject string
	EventID string
	Time    time.Time
}
