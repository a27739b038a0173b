package ports

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/convene/convene/conference-svc/internal/domain"
)

func TestCalendarIsRFC5545(t *testing.T) {
	at := time.Date(2030, 5, 1, 10, 30, 0, 0, time.UTC)
	title := "Quarterly review; budget, hiring\\plans — " + strings.Repeat("long ", 20)
	ics := Calendar(domain.Conference{ID: "01a2", Title: title, StartsAt: at, CreatedAt: at, UpdatedAt: at, Status: domain.StatusScheduled})

	require.True(t, strings.HasPrefix(ics, "BEGIN:VCALENDAR\r\n"))
	require.True(t, strings.HasSuffix(ics, "END:VCALENDAR\r\n"))
	for _, line := range []string{"VERSION:2.0", "PRODID:" + calendarProduct, "BEGIN:VEVENT", "UID:01a2@convene",
		"DTSTAMP:20300501T103000Z", "DTSTART:20300501T103000Z", "END:VEVENT"} {
		require.Contains(t, ics, line+"\r\n")
	}
	for _, line := range strings.Split(strings.TrimSuffix(ics, "\r\n"), "\r\n") {
		require.NotContains(t, line, "\n", "every line ends with CRLF")
		require.LessOrEqual(t, len(line), 75, "lines are folded at 75 octets: %q", line)
	}
	// Unfold (RFC 5545 §3.1) and check the escaping of the summary.
	unfolded := strings.ReplaceAll(ics, "\r\n ", "")
	require.Contains(t, unfolded, `SUMMARY:Quarterly review\; budget\, hiring\\plans — long`)
}
