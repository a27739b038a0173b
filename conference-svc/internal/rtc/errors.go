package rtc

import "errors"

// Sentinel errors of the room rules; the signaling socket turns each into an error frame.
var (
	ErrRoomClosed     = errors.New("the conference has ended")
	ErrAlreadyJoined  = errors.New("already joined or waiting")
	ErrNotJoined      = errors.New("not in the room")
	ErrNotHost        = errors.New("only a host may do this")
	ErrNotWaiting     = errors.New("that user is not waiting in the lobby")
	ErrNotInRoom      = errors.New("that user is not in the room")
	ErrInvalidRole    = errors.New("role must be host or participant")
	ErrLastHost       = errors.New("the last host in the room cannot be demoted")
	ErrSelf           = errors.New("a host cannot remove themselves; leave instead")
	ErrUnknownTrack   = errors.New("no such track")
	ErrDuplicateTrack = errors.New("track already published")
)
