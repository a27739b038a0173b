// Minimal doubles for MediaStreamTrack, MediaStream and RTCPeerConnection: enough surface for the
// conference composable's signaling logic, recording what it does.
let nextId = 1;

export class FakeTrack {
  id: string;
  kind: 'audio' | 'video';
  enabled = true;
  muted = false;
  readyState: 'live' | 'ended' = 'live';
  private listeners: Record<string, Array<() => void>> = {};
  constructor(kind: 'audio' | 'video', id?: string) {
    this.kind = kind;
    this.id = id ?? `${kind}-${nextId++}`;
  }
  addEventListener(type: string, fn: () => void) {
    (this.listeners[type] ??= []).push(fn);
  }
  dispatch(type: string) {
    this.listeners[type]?.forEach((fn) => fn());
  }
  stop() {
    this.readyState = 'ended';
  }
}

export class FakeStream {
  id: string;
  tracks: FakeTrack[];
  constructor(tracks: FakeTrack[] = [], id?: string) {
    this.tracks = [...tracks];
    this.id = id ?? `stream-${nextId++}`;
  }
  getTracks() {
    return [...this.tracks];
  }
  getAudioTracks() {
    return this.tracks.filter((t) => t.kind === 'audio');
  }
  getVideoTracks() {
    return this.tracks.filter((t) => t.kind === 'video');
  }
  addTrack(t: FakeTrack) {
    this.tracks.push(t);
  }
  removeTrack(t: FakeTrack) {
    this.tracks = this.tracks.filter((x) => x !== t);
  }
  addEventListener() {}
}

/** An RTCRtpSender: its encodings (one per simulcast layer) and what setParameters applied. */
export class FakeSender {
  track: FakeTrack;
  stream: FakeStream;
  mid: string;
  encodings: RTCRtpEncodingParameters[];
  applied: RTCRtpEncodingParameters[][] = [];
  constructor(track: FakeTrack, stream: FakeStream, encodings: RTCRtpEncodingParameters[], mid: string) {
    this.track = track;
    this.stream = stream;
    this.mid = mid;
    this.encodings = encodings.map((e) => ({ active: true, ...e }));
  }
  getParameters() {
    return { encodings: this.encodings.map((e) => ({ ...e })) };
  }
  async setParameters(p: { encodings: RTCRtpEncodingParameters[] }) {
    this.encodings = p.encodings.map((e) => ({ ...e }));
    this.applied.push(this.encodings);
  }
}

export class FakePeerConnection {
  static instances: FakePeerConnection[] = [];
  static reset() {
    FakePeerConnection.instances = [];
  }
  static last() {
    return FakePeerConnection.instances.at(-1)!;
  }

  config: RTCConfiguration | undefined;
  signalingState: RTCSignalingState = 'stable';
  localDescription: RTCSessionDescriptionInit | null = null;
  remoteDescription: RTCSessionDescriptionInit | null = null;
  onicecandidate: ((ev: { candidate: unknown }) => void) | null = null;
  ontrack: ((ev: { track: FakeTrack; streams: FakeStream[] }) => void) | null = null;
  onnegotiationneeded: (() => void) | null = null;
  onconnectionstatechange: (() => void) | null = null;
  oniceconnectionstatechange: (() => void) | null = null;
  connectionState: RTCPeerConnectionState = 'new';
  iceConnectionState: RTCIceConnectionState = 'new';
  iceRestarts = 0;
  offerOptions: Array<RTCOfferOptions | undefined> = [];
  senders: FakeSender[] = [];
  transceivers: Array<{ kind: string; direction: string }> = [];
  candidates: unknown[] = [];
  log: string[] = [];
  closed = false;
  private offers = 0;
  private negotiationQueued = false;

  constructor(config?: RTCConfiguration) {
    this.config = config;
    FakePeerConnection.instances.push(this);
  }
  private needNegotiation() {
    if (this.negotiationQueued) return;
    this.negotiationQueued = true;
    queueMicrotask(() => {
      this.negotiationQueued = false;
      if (!this.closed) this.onnegotiationneeded?.();
    });
  }
  addTrack(track: FakeTrack, stream: FakeStream) {
    const sender = new FakeSender(track, stream, [{}], String(this.senders.length));
    this.senders.push(sender);
    this.needNegotiation();
    return sender;
  }
  removeTrack(sender: { track: FakeTrack }) {
    this.senders = this.senders.filter((s) => s !== sender);
    this.needNegotiation();
  }
  addTransceiver(
    trackOrKind: string | FakeTrack,
    init: { direction: string; streams?: FakeStream[]; sendEncodings?: RTCRtpEncodingParameters[] },
  ) {
    if (typeof trackOrKind === 'string') {
      this.transceivers.push({ kind: trackOrKind, direction: init.direction });
    } else {
      this.transceivers.push({ kind: trackOrKind.kind, direction: init.direction });
      const enc = init.sendEncodings?.length ? init.sendEncodings : [{}];
      this.senders.push(new FakeSender(trackOrKind, init.streams?.[0] ?? new FakeStream(), enc, String(this.senders.length)));
    }
    this.needNegotiation();
  }
  getTransceivers() {
    return this.senders.map((sender) => ({ mid: sender.mid, sender }));
  }
  private msids() {
    const streams = [...new Set(this.senders.map((s) => s.stream.id))];
    const wms = streams.length ? `\r\na=msid-semantic: WMS ${streams.join(' ')}` : '';
    return wms + this.senders.map((s) => `\r\na=msid:${s.stream.id} ${s.track.id}\r\na=ssrc:1 msid:${s.stream.id} ${s.track.id}`).join('') + '\r\n';
  }
  async createOffer(options?: RTCOfferOptions) {
    this.offerOptions.push(options);
    return { type: 'offer' as const, sdp: `offer-${++this.offers}${this.msids()}` };
  }
  async createAnswer() {
    return { type: 'answer' as const, sdp: `answer-to-${this.remoteDescription?.sdp}${this.msids()}` };
  }
  async setLocalDescription(d: RTCSessionDescriptionInit) {
    this.log.push(`local:${d.type}`);
    if (d.type === 'rollback') {
      this.localDescription = null;
      this.signalingState = 'stable';
      return;
    }
    this.localDescription = d;
    this.signalingState = d.type === 'offer' ? 'have-local-offer' : 'stable';
  }
  async setRemoteDescription(d: RTCSessionDescriptionInit) {
    this.log.push(`remote:${d.type}`);
    this.remoteDescription = d;
    this.signalingState = d.type === 'offer' ? 'have-remote-offer' : 'stable';
  }
  async addIceCandidate(c: unknown) {
    this.candidates.push(c);
  }
  restartIce() {
    this.iceRestarts++;
    this.needNegotiation();
  }
  close() {
    this.closed = true;
  }
  setConnectionState(s: RTCPeerConnectionState) {
    this.connectionState = s;
    this.onconnectionstatechange?.();
  }
  setIceConnectionState(s: RTCIceConnectionState) {
    this.iceConnectionState = s;
    this.oniceconnectionstatechange?.();
  }
  // ---- test side ----
  emitTrack(track: FakeTrack, stream: FakeStream) {
    this.ontrack?.({ track, streams: [stream] });
  }
}
