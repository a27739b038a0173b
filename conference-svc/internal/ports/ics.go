package ports

import (
	ics "github.com/arran4/golang-ical"

	"github.com/convene/convene/conference-svc/internal/domain"
)

// calendarProduct is the PRODID of the calendars Convene writes.
const calendarProduct = "-//Convene//Conferences//EN"

// Calendar renders a conference as an RFC 5545 calendar with one event: CRLF line ends,
// lines folded at 75 octets and text escaped by golang-ical. The UID is stable, so that
// importing the file again updates the event instead of adding a second one.
func Calendar(c domain.Conference) string {
	cal := ics.NewCalendarFor("Convene")
	cal.SetProductId(calendarProduct)
	cal.SetMethod(ics.MethodPublish)
	cal.SetCalscale("GREGORIAN")
	ev := cal.AddEvent(c.ID + "@convene")
	ev.SetDtStampTime(c.UpdatedAt)
	ev.SetCreatedTime(c.CreatedAt)
	ev.SetLastModifiedAt(c.UpdatedAt)
	ev.SetStartAt(c.StartsAt)
	ev.SetSummary(c.Title)
	if c.Status == domain.StatusEnded {
		ev.SetStatus(ics.ObjectStatusCancelled)
	} else {
		ev.SetStatus(ics.ObjectStatusConfirmed)
	}
	return cal.Serialize(ics.WithNewLineWindows)
}
