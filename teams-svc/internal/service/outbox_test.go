package service_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestTeamDeletionReachesConference: a team deleted while conference-svc is down is
// delivered once it comes back.
func TestTeamDeletionReachesConference(t *testing.T) {
	h := start(t, options{noConference: true})
	a := h.users.add("alice")
	teamID, _ := h.createTeam(a)
	other, _ := h.createTeam(a)
	failures := func() float64 {
		return h.metric("grpc_client_handled_total", "grpc_method", "DeleteTeamConferences", "grpc_code", "Unavailable")
	}
	failed0 := failures()
	h.must(204, &a, "DELETE", "/api/v1/teams/"+teamID, nil)

	// The relay is retrying against a closed port; nothing is lost meanwhile.
	require.Eventually(t, func() bool { return failures() >= failed0+2 }, 10*time.Second, 20*time.Millisecond)
	require.Empty(t, h.conference.calls())

	h.startConference()
	require.Eventually(t, func() bool { return len(h.conference.calls()) == 1 }, 10*time.Second, 20*time.Millisecond)
	require.Equal(t, []string{teamID}, h.conference.calls())

	h.must(204, &a, "DELETE", "/api/v1/teams/"+other, nil)
	require.Eventually(t, func() bool { return len(h.conference.calls()) == 2 }, 10*time.Second, 20*time.Millisecond)
	require.Equal(t, []string{teamID, other}, h.conference.calls())
}
