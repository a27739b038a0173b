package rtc

import "encoding/json"

// Message is a frame the room sends to a participant; the signaling socket writes it as
// JSON. The type names and fields are API.md's.
type Message interface{ messageType() string }

// ParticipantInfo describes someone in the room.
type ParticipantInfo struct {
	UserID   string `json:"user_id"`
	Username string `json:"username"`
	Role     Role   `json:"role"`
}

// LobbyEntry is someone waiting to be admitted.
type LobbyEntry struct {
	UserID   string `json:"user_id"`
	Username string `json:"username"`
}

// ICEServer is a STUN/TURN server the client should use.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// TrackInfo labels a published track for its subscribers.
type TrackInfo struct {
	TrackID  string `json:"track_id"`
	StreamID string `json:"stream_id"`
	UserID   string `json:"user_id"`
	Kind     string `json:"kind"`
	Source   string `json:"source"`
}

type (
	// Waiting tells a user they are in the lobby.
	Waiting struct{}
	// Admitted tells a waiting user a host let them in (Joined follows).
	Admitted struct{}
	// Denied tells a waiting user a host refused them; they may ask again.
	Denied struct{}
	// Joined tells a user they are in the room, with who else is there.
	Joined struct {
		Role         Role              `json:"role"`
		Participants []ParticipantInfo `json:"participants"`
		ICEServers   []ICEServer       `json:"ice_servers"`
	}
	// Lobby is the waiting list, sent to hosts on every change.
	Lobby struct {
		Waiting []LobbyEntry `json:"waiting"`
	}
	// ParticipantJoined announces someone who entered the room.
	ParticipantJoined struct {
		Participant ParticipantInfo `json:"participant"`
	}
	// ParticipantLeft announces someone who left, was removed or lost their connection.
	ParticipantLeft struct {
		UserID string `json:"user_id"`
	}
	// RoleChanged announces a promotion or demotion.
	RoleChanged struct {
		UserID string `json:"user_id"`
		Role   Role   `json:"role"`
	}
	// Removed tells a user a host removed them; the connection closes after it.
	Removed struct{}
	// Ended tells everyone the conference ended (a host ended it, it stayed empty, or it
	// was deleted); the connection closes after it.
	Ended struct{}
	// Tracks is every track the recipient receives, labelled with owner and source.
	Tracks struct {
		Tracks []TrackInfo `json:"tracks"`
	}
	// ActiveSpeaker names who is speaking now.
	ActiveSpeaker struct {
		UserID string `json:"user_id"`
	}
)

func (Waiting) messageType() string           { return "waiting" }
func (Admitted) messageType() string          { return "admitted" }
func (Denied) messageType() string            { return "denied" }
func (Joined) messageType() string            { return "joined" }
func (Lobby) messageType() string             { return "lobby" }
func (ParticipantJoined) messageType() string { return "participant_joined" }
func (ParticipantLeft) messageType() string   { return "participant_left" }
func (RoleChanged) messageType() string       { return "role_changed" }
func (Removed) messageType() string           { return "removed" }
func (Ended) messageType() string             { return "ended" }
func (Tracks) messageType() string            { return "tracks" }
func (ActiveSpeaker) messageType() string     { return "active_speaker" }

// Type returns the frame type of m.
func Type(m Message) string { return m.messageType() }

// Encode writes m as a JSON frame with its "type" first: {"type":"joined","role":...}.
func Encode(m Message) ([]byte, error) {
	body, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	frame := make([]byte, 0, len(body)+32)
	frame = append(frame, `{"type":"`...)
	frame = append(frame, m.messageType()...)
	frame = append(frame, '"')
	if len(body) > 2 { // not "{}"
		frame = append(frame, ',')
	}
	return append(frame, body[1:]...), nil
}
