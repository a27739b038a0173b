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
  connectionState: RTCPeerConnectionState = 'new';
  iceRestarts = 0;
  senders: Array<{ track: FakeTrack; stream: FakeStream }> = [];
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
    const sender = { track, stream };
    this.senders.push(sender);
    this.needNegotiation();
    return sender;
  }
  removeTrack(sender: { track: FakeTrack }) {
    this.senders = this.senders.filter((s) => s !== sender);
    this.needNegotiation();
  }
  addTransceiver(kind: string, init: { direction: string }) {
    this.transceivers.push({ kind, direction: init.direction });
    this.needNegotiation();
  }
  private msids() {
    const streams = [...new Set(this.senders.map((s) => s.stream.id))];
    const wms = streams.length ? `\r\na=msid-semantic: WMS ${streams.join(' ')}` : '';
    return wms + this.senders.map((s) => `\r\na=msid:${s.stream.id} ${s.track.id}\r\na=ssrc:1 msid:${s.stream.id} ${s.track.id}`).join('') + '\r\n';
  }
  async createOffer() {
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
  // ---- test side ----
  emitTrack(track: FakeTrack, stream: FakeStream) {
    this.ontrack?.({ track, streams: [stream] });
  }
}
