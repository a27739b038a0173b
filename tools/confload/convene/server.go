// Package convene drives Convene's SFU for tools/confload: users, teams and conferences
// through the gateway's public API, and participants over the signaling socket with pion
// peer connections (one publishing, one subscribing), like the web client.
package convene

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"

	"github.com/convene/convene/tools/confload/load"
)

// Params configure the driver.
type Params struct {
	// Gateway is the gateway's base URL (http://127.0.0.1:8080).
	Gateway string
	// Pid is conference-svc's process, whose CPU time is measured.
	Pid int
	// Name labels the server in reports (default "convene").
	Name string
}

// Server is a Convene deployment seen through its gateway.
type Server struct {
	name string
	pid  int
	gw   string
	c    *apiClient
	api  *webrtc.API

	mu    sync.Mutex
	slots []*slot // teams of users, reused by later rooms of the same size
}

// slot is a team whose members fill one room at a time.
type slot struct {
	team  string
	users []*account
	busy  bool
}

// New prepares a driver; it creates users lazily, as rooms need them.
func New(p Params) (*Server, error) {
	api, err := newAPI()
	if err != nil {
		return nil, err
	}
	if p.Name == "" {
		p.Name = "convene"
	}
	return &Server{
		name: p.Name, pid: p.Pid, gw: p.Gateway, api: api,
		c: &apiClient{base: p.Gateway, http: &http.Client{Timeout: 15 * time.Second}},
	}, nil
}

// Name implements load.Server.
func (s *Server) Name() string { return s.name }

// Pid implements load.Server.
func (s *Server) Pid() int { return s.pid }

// tokenMaxAge is well below the gateway's access-token lifetime: a reused slot logs in
// again rather than join with a token about to expire.
const tokenMaxAge = 5 * time.Minute

// NewRoom implements load.Server: a fresh conference in a free team of size users.
func (s *Server) NewRoom(ctx context.Context, size int) (load.Room, error) {
	sl, err := s.takeSlot(ctx, size)
	if err != nil {
		return nil, err
	}
	for _, u := range sl.users {
		if time.Since(u.loggedIn) > tokenMaxAge {
			if err := s.c.login(ctx, u); err != nil {
				s.releaseSlot(sl)
				return nil, err
			}
		}
	}
	conf, err := s.c.newConference(ctx, sl.team, sl.users[0])
	if err != nil {
		s.releaseSlot(sl)
		return nil, err
	}
	return &room{s: s, slot: sl, conf: conf, left: size}, nil
}

func (s *Server) takeSlot(ctx context.Context, size int) (*slot, error) {
	s.mu.Lock()
	for _, sl := range s.slots {
		if !sl.busy && len(sl.users) == size {
			sl.busy = true
			s.mu.Unlock()
			return sl, nil
		}
	}
	s.mu.Unlock()
	sl := &slot{busy: true}
	for range size {
		u, err := s.c.newAccount(ctx)
		if err != nil {
			return nil, err
		}
		sl.users = append(sl.users, u)
	}
	team, err := s.c.newTeam(ctx, sl.users)
	if err != nil {
		return nil, err
	}
	sl.team = team
	s.mu.Lock()
	s.slots = append(s.slots, sl)
	s.mu.Unlock()
	return sl, nil
}

func (s *Server) releaseSlot(sl *slot) {
	s.mu.Lock()
	sl.busy = false
	s.mu.Unlock()
}

// room is one conference; its slot is free again once every participant left.
type room struct {
	s    *Server
	slot *slot
	conf string

	mu   sync.Mutex
	left int
}

func (r *room) Name() string { return r.conf }

func (r *room) leave() {
	r.mu.Lock()
	r.left--
	last := r.left == 0
	r.mu.Unlock()
	if last {
		r.s.releaseSlot(r.slot)
	}
}

// Join implements load.Room.
func (r *room) Join(ctx context.Context, p *load.Peer) error {
	p.OnClose(r.leave)
	if p.Index >= len(r.slot.users) {
		return fmt.Errorf("%w: participant %d of a room of %d", load.ErrBadParams, p.Index, len(r.slot.users))
	}
	return join(ctx, r.s.api, r.s.gw, r.conf, r.slot.users[p.Index].token, p)
}

// newAPI builds the clients' WebRTC stack: pion's default codecs and interceptors (NACK,
// RTCP reports, TWCC), loopback UDP only, and the SRTP profile order of the LiveKit SDK so
// that both servers do the same cryptography.
func newAPI() (*webrtc.API, error) {
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		return nil, err
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(me, ir); err != nil {
		return nil, err
	}
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetSRTPProtectionProfiles(dtls.SRTP_AEAD_AES_128_GCM, dtls.SRTP_AES128_CM_HMAC_SHA1_80)
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)), nil
}
