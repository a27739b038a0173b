package load

import (
	"flag"
	"time"
)

// RegisterFlags binds the load's shape to command-line flags, so that every front end of
// this package (Convene alone, Convene against LiveKit) takes the same ones.
func RegisterFlags(fs *flag.FlagSet, sp *StepParams) {
	sp.Run.Media = DefaultMedia()
	fs.IntVar(&sp.Start, "rooms", 1, "rooms in the first (or only) round")
	fs.IntVar(&sp.Step, "step", 1, "rooms added per round")
	fs.IntVar(&sp.Max, "step-max", 0, "grow rooms up to this many, stopping a server at loss > 1 % or p99 > 100 ms (0: one round)")
	fs.IntVar(&sp.Run.RoomSize, "size", 10, "participants per room; each publishes audio and video and receives all others")
	fs.DurationVar(&sp.Run.Duration, "duration", 10*time.Second, "measurement window per round")
	fs.DurationVar(&sp.Run.Warmup, "warmup", 2*time.Second, "wait between all media flowing and the window")
	fs.DurationVar(&sp.Pause, "pause", 3*time.Second, "pause between rounds")
	fs.IntVar(&sp.Run.Media.VideoBitrate, "bitrate", sp.Run.Media.VideoBitrate, "mean video bitrate per publisher, bit/s")
	fs.DurationVar(&sp.Run.Media.KeyframeInterval, "keyframe-interval", sp.Run.Media.KeyframeInterval, "period of unrequested key frames")
}
