// Camera and microphone for the waiting hall and the meeting: device lists, switching, toggles,
// and a microphone level (0..1) measured with WebAudio.
import { onBeforeUnmount, ref, shallowRef } from 'vue';

/**
 * The camera is published as three simulcast layers (quarter, half and full resolution of the
 * 1280x720 capture), lowest first, so that the SFU can send each viewer the layer that fits the
 * size it shows the video at and its bandwidth, and ask us (the `layers` frame) to stop the
 * layers nobody watches. The rids are the names conference-svc orders layers by.
 */
export const CAMERA_SIMULCAST: RTCRtpEncodingParameters[] = [
  { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: 'f', scaleResolutionDownBy: 1, maxBitrate: 1_500_000 },
];

export function useLocalMedia() {
  const stream = shallowRef<MediaStream | null>(null);
  const cameras = ref<MediaDeviceInfo[]>([]);
  const mics = ref<MediaDeviceInfo[]>([]);
  const cameraId = ref('');
  const micId = ref('');
  const micOn = ref(true);
  const cameraOn = ref(true);
  const level = ref(0);
  const error = ref('');
  let audioCtx: AudioContext | null = null;
  let raf = 0;

  async function listDevices() {
    try {
      const all = await navigator.mediaDevices.enumerateDevices();
      cameras.value = all.filter((d) => d.kind === 'videoinput');
      mics.value = all.filter((d) => d.kind === 'audioinput');
    } catch {
      /* no device list: keep defaults */
    }
  }

  function stopMeter() {
    cancelAnimationFrame(raf);
    raf = 0;
    if (audioCtx) void audioCtx.close().catch(() => undefined);
    audioCtx = null;
    level.value = 0;
  }

  function startMeter(s: MediaStream) {
    stopMeter();
    if (!s.getAudioTracks().length || typeof AudioContext === 'undefined') return;
    try {
      audioCtx = new AudioContext();
      const src = audioCtx.createMediaStreamSource(s);
      const analyser = audioCtx.createAnalyser();
      analyser.fftSize = 512;
      src.connect(analyser);
      const buf = new Uint8Array(analyser.fftSize);
      const loop = () => {
        analyser.getByteTimeDomainData(buf);
        let sum = 0;
        for (const v of buf) {
          const x = (v - 128) / 128;
          sum += x * x;
        }
        const rms = Math.sqrt(sum / buf.length);
        const target = micOn.value ? Math.min(1, rms * 4) : 0;
        level.value = level.value * 0.6 + target * 0.4;
        raf = requestAnimationFrame(loop);
      };
      void audioCtx.resume().catch(() => undefined);
      loop();
    } catch {
      /* meter is a nicety */
    }
  }

  async function start() {
    error.value = '';
    const constraints: MediaStreamConstraints = {
      audio: micId.value ? { deviceId: { exact: micId.value } } : true,
      video: cameraId.value
        ? { deviceId: { exact: cameraId.value }, width: { ideal: 1280 }, height: { ideal: 720 } }
        : { width: { ideal: 1280 }, height: { ideal: 720 } },
    };
    let s: MediaStream | null = null;
    try {
      s = await navigator.mediaDevices.getUserMedia(constraints);
    } catch {
      // Try each kind alone: a missing camera should not cost the microphone.
      const parts: MediaStreamTrack[] = [];
      for (const c of [{ audio: constraints.audio }, { video: constraints.video }] as MediaStreamConstraints[]) {
        try {
          const p = await navigator.mediaDevices.getUserMedia(c);
          parts.push(...p.getTracks());
        } catch {
          /* this kind is unavailable */
        }
      }
      if (parts.length) s = new MediaStream(parts);
      else error.value = 'No camera or microphone is available. You can still join and watch.';
    }
    stream.value?.getTracks().forEach((t) => t.stop());
    stream.value = s;
    if (s) {
      s.getAudioTracks().forEach((t) => (t.enabled = micOn.value));
      s.getVideoTracks().forEach((t) => (t.enabled = cameraOn.value));
      const a = s.getAudioTracks()[0]?.getSettings().deviceId;
      const v = s.getVideoTracks()[0]?.getSettings().deviceId;
      if (a) micId.value = a;
      if (v) cameraId.value = v;
      startMeter(s);
    }
    await listDevices();
  }

  function setMic(on: boolean) {
    micOn.value = on;
    stream.value?.getAudioTracks().forEach((t) => (t.enabled = on));
  }
  function setCamera(on: boolean) {
    cameraOn.value = on;
    stream.value?.getVideoTracks().forEach((t) => (t.enabled = on));
  }

  function stop() {
    stopMeter();
    stream.value?.getTracks().forEach((t) => t.stop());
    stream.value = null;
  }

  /** Stops the meter but keeps the tracks (they move into the meeting). */
  function release() {
    stopMeter();
  }

  onBeforeUnmount(stop);

  return { stream, cameras, mics, cameraId, micId, micOn, cameraOn, level, error, start, stop, release, setMic, setCamera };
}
