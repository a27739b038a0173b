package e2e

import (
	"bufio"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/stretchr/testify/require"

	"github.com/convene/convene/tools/devstack/stack"
)

// failoverParticipant is a media participant that, like the web client, reconnects by
// itself when its signaling socket drops: it dials the gateway again until an upgrade
// succeeds, joins, and negotiates new peer connections with whichever instance hosts the
// room now.
type failoverParticipant struct {
	t      *testing.T
	c      *client
	conf   string
	u      *user
	tracks []confTrack

	mu sync.Mutex
	m  *confMedia
	// refused counts the refused upgrades of the last reconnection, by status.
	refused map[int]int
}

func joinFailover(t *testing.T, c *client, conf string, u *user, tracks ...confTrack) *failoverParticipant {
	p := &failoverParticipant{t: t, c: c, conf: conf, u: u, tracks: tracks}
	p.m = confJoinMedia(t, c, conf, u, tracks...)
	return p
}

func (p *failoverParticipant) media() *confMedia {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.m
}

// reconnect waits for the socket to drop, then dials until it gets in (every 100 ms, for
// at most 10 s), and starts media again.
func (p *failoverParticipant) reconnect() {
	old := p.media()
	select {
	case <-old.s.done:
	case <-time.After(10 * time.Second):
		p.t.Errorf("%s: socket still open after its instance died", p.u.Username)
		return
	}
	old.close()
	deadline := time.Now().Add(10 * time.Second)
	refused := map[int]int{}
	for time.Now().Before(deadline) {
		s, status, err := confTryDial(p.t, p.c, p.conf, p.u)
		if err == nil {
			p.mu.Lock()
			p.m = confStartMedia(p.t, s, p.tracks...)
			p.refused = refused
			p.mu.Unlock()
			return
		}
		refused[status]++
		time.Sleep(100 * time.Millisecond)
	}
	p.t.Errorf("%s: could not reconnect within 10s", p.u.Username)
}

// hostedParticipants reads how many participants an instance's rooms hold, from its
// /metrics; -1 when it does not answer.
func hostedParticipants(httpAddr string) int {
	resp, err := http.Get("http://" + httpAddr + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "conference_participants_hosted "); ok {
			n, _ := strconv.ParseFloat(v, 64)
			return int(n)
		}
	}
	return -1
}

// instanceID is the Consul service id devstack gives a process (INSTANCE_ID).
func instanceID(p *stack.Proc) string {
	_, port, _ := net.SplitHostPort(p.GRPCAddr)
	return p.Name + "-" + port
}

// TestConferenceFailover: with two conference-svc instances behind the gateway, everyone who
// joins a conference lands on the instance that hosts its room (the other answers 421 and
// the gateway follows); when that instance is killed (SIGKILL), the clients reconnect by
// themselves, the other instance takes the room over (Consul's failed check, not the claim's
// TTL), and media flows between everyone again within 10 s.
func TestConferenceFailover(t *testing.T) {
	st := startStack(t, stack.Options{
		Services:  []string{"users-svc", "teams-svc", "conference-svc"},
		Instances: map[string]int{"conference-svc": 2},
		ServiceEnv: map[string]map[string]string{
			"gateway":        {"AUTH_RATE_LIMIT": "100000", "AUTH_RATE_BURST": "100000"},
			"teams-svc":      {"TEAMS_WRITES_PER_MINUTE": "100000"},
			"conference-svc": {"CONFERENCE_CREATE_PER_MINUTE": "100000"},
		},
	})
	c := newClient(st)
	host := newUser(t, c)
	others := []*user{newUser(t, c), newUser(t, c)}
	team := confTeam(t, c, host, others...)
	conf := confCreate(t, c, team, host, false)

	mic := confTrack{webrtc.RTPCodecTypeAudio, "mic-x"}
	cam := confTrack{webrtc.RTPCodecTypeVideo, "camera-x"}
	everyone := append([]*user{host}, others...)
	var ps []*failoverParticipant
	for _, u := range everyone {
		ps = append(ps, joinFailover(t, c, conf, u, mic, cam))
	}
	allFlowing := func() bool {
		for _, p := range ps {
			m := p.media()
			for _, u := range everyone {
				if u != p.u && m.flowing(u.ID, 5) != 2 {
					return false
				}
			}
		}
		return true
	}
	require.Eventually(t, allFlowing, 20*time.Second, 50*time.Millisecond, "media flows in the first room")

	// Everyone is on one instance, whichever their socket reached first.
	procs := []*stack.Proc{st.Proc("conference-svc", 0), st.Proc("conference-svc", 1)}
	owner := -1
	require.Eventually(t, func() bool {
		a, b := hostedParticipants(procs[0].HTTPAddr), hostedParticipants(procs[1].HTTPAddr)
		switch {
		case a == len(everyone) && b == 0:
			owner = 0
		case b == len(everyone) && a == 0:
			owner = 1
		default:
			return false
		}
		return true
	}, 10*time.Second, 100*time.Millisecond, "all participants in one instance's room")
	survivor := 1 - owner
	t.Logf("room on %s; killing it", instanceID(procs[owner]))

	var wg sync.WaitGroup
	for _, p := range ps {
		wg.Go(p.reconnect)
	}
	killed := time.Now()
	require.NoError(t, st.Kill("conference-svc", owner))
	wg.Wait()
	require.False(t, t.Failed())
	require.Eventually(t, allFlowing, 10*time.Second, 20*time.Millisecond, "media flows again")
	recovery := time.Since(killed)
	refused := map[int]int{}
	for _, p := range ps {
		for status, n := range p.refused {
			refused[status] += n
		}
	}
	t.Logf("failover: media flowing again %v after SIGKILL of the owner; refused upgrades meanwhile, by status: %v",
		recovery.Round(time.Millisecond), refused)
	require.Less(t, recovery, 10*time.Second)
	require.Eventually(t, func() bool { return hostedParticipants(procs[survivor].HTTPAddr) == len(everyone) },
		5*time.Second, 100*time.Millisecond, "the room is on %s now", instanceID(procs[survivor]))

	// The database follows the room to its new instance.
	confRequireLive(t, c, conf, host, len(everyone))
}
