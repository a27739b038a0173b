package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/convene/convene/tools/confload/load"
)

// livekitServer drives livekit-server through its Go client SDK: a participant connects with
// a token for an auto-created room, publishes one Opus and one VP8 track and is subscribed to
// everyone else's automatically.
type livekitServer struct {
	url, key, secret string
	pid              int
}

func (s *livekitServer) Name() string { return "livekit" }
func (s *livekitServer) Pid() int     { return s.pid }

func (s *livekitServer) NewRoom(context.Context, int) (load.Room, error) {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return &livekitRoom{s: s, name: "confload-" + hex.EncodeToString(b)}, nil
}

type livekitRoom struct {
	s    *livekitServer
	name string
}

func (r *livekitRoom) Name() string { return r.name }

// sdkTrack adapts the SDK's local track (which reports RTCP, hence PLIs, to a callback) to
// the generator's writer.
type sdkTrack struct{ t *lksdk.LocalTrack }

func (w sdkTrack) WriteRTP(p *rtp.Packet) error { return w.t.WriteRTP(p, nil) }

// Join implements load.Room. The SDK call has no context; its own signaling timeouts
// (≈ 10 s) bound it, and ctx is checked between the steps.
func (r *livekitRoom) Join(ctx context.Context, p *load.Peer) error {
	cb := lksdk.NewRoomCallback()
	cb.OnTrackSubscribed = func(track *webrtc.TrackRemote, _ *lksdk.RemoteTrackPublication, _ *lksdk.RemoteParticipant) {
		go p.Receive(track)
	}
	room, err := lksdk.ConnectToRoom(r.s.url, lksdk.ConnectInfo{
		APIKey: r.s.key, APISecret: r.s.secret, RoomName: r.name,
		ParticipantIdentity: fmt.Sprintf("%s-%d", r.name, p.Index),
	}, cb, lksdk.WithAutoSubscribe(true))
	if err != nil {
		return fmt.Errorf("livekit connect: %w", err)
	}
	p.OnClose(room.Disconnect)
	if err := ctx.Err(); err != nil {
		return err
	}
	audio, err := lksdk.NewLocalTrack(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2})
	if err != nil {
		return err
	}
	video, err := lksdk.NewLocalTrack(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000},
		lksdk.WithRTCPHandler(func(pkt rtcp.Packet) {
			switch pkt.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				p.KeyframeRequested()
			}
		}))
	if err != nil {
		return err
	}
	if _, err := room.LocalParticipant.PublishTrack(audio, &lksdk.TrackPublicationOptions{Name: "mic", Source: livekit.TrackSource_MICROPHONE}); err != nil {
		return fmt.Errorf("livekit publish audio: %w", err)
	}
	if _, err := room.LocalParticipant.PublishTrack(video, &lksdk.TrackPublicationOptions{
		Name: "camera", Source: livekit.TrackSource_CAMERA, VideoWidth: 640, VideoHeight: 360,
	}); err != nil {
		return fmt.Errorf("livekit publish video: %w", err)
	}
	p.Publish(sdkTrack{audio}, sdkTrack{video})
	return nil
}
