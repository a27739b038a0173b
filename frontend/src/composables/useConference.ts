// Conference signaling and media (API.md "Signaling"): join, the lobby (waiting / admitted /
// denied), host actions, the media connections to the SFU, the `tracks` map from track ids to
// user + source, screen share as an extra track, active speaker, and a reconnect that joins again
// after a network drop.
//
// Like conference-svc (and livekit), media uses two RTCPeerConnections, each with one offerer,
// so offers never cross: the publisher connection carries what this client sends (the client
// offers, `answer` frames answer it), the subscriber connection carries what it receives (the
// SFU sends `offer`, the client answers). A candidate goes to the subscriber connection when its
// sdpMid names one of the SFU's sections ("sfu…"), or when its ufrag is the subscriber's.
//
// The camera goes out as three simulcast layers (CAMERA_SIMULCAST); the SFU picks a layer per
// viewer from the `view` sizes we report and its bandwidth estimate, and sends `layers` frames
// naming the layers anyone watches, which we apply with RTCRtpSender.setParameters. When a
// connection's ICE path breaks (network change) the publisher connection restarts ICE itself
// (we offer it) and the subscriber one is restarted by the SFU on our `ice_restart` frame.
import { reactive, shallowRef, type Ref } from 'vue';
import { CAMERA_SIMULCAST } from '@/composables/useLocalMedia';
import {
  createReconnectingSocket,
  type Backoff,
  type Frame,
  type SocketStatus,
  type WebSocketCtor,
} from '@/lib/reconnectingSocket';
import type { ConferenceRole } from '@/api/types';

export type ConferencePhase =
  | 'idle'
  | 'connecting'
  | 'waiting'
  | 'admitted'
  | 'joined'
  | 'denied'
  | 'removed'
  | 'left'
  | 'ended';

export interface ConfParticipant {
  user_id: string;
  username: string;
  role: ConferenceRole;
}

export interface LobbyEntry {
  user_id: string;
  username: string;
}

export type TrackSource = 'mic' | 'camera' | 'screen';

export interface TrackInfo {
  track_id: string;
  stream_id: string;
  user_id: string;
  kind: 'audio' | 'video';
  source: TrackSource;
}

export interface VideoTile {
  /** user_id + ':' + source */
  key: string;
  user_id: string;
  username: string;
  source: 'camera' | 'screen';
  local: boolean;
  /** The video track's id as the SFU knows it (for `view`), '' for local tiles. */
  track_id: string;
  stream: MediaStream | null;
  hasVideo: boolean;
}

export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

type PeerCtor = new (config?: RTCConfiguration) => RTCPeerConnection;

export interface ConferenceOptions {
  getUrl: () => string | Promise<string>;
  selfId: () => string;
  selfName?: () => string;
  WebSocketImpl?: WebSocketCtor;
  RTCPeerConnectionImpl?: PeerCtor;
  getDisplayMedia?: (c: DisplayMediaStreamOptions) => Promise<MediaStream>;
  /** Creates MediaStreams for tiles (injectable for tests without a media stack). */
  createStream?: (tracks: MediaStreamTrack[]) => MediaStream;
  backoff?: Partial<Backoff>;
  onConnectFailure?: () => void | Promise<void>;
  /** ms to wait for `joined` after `admitted` before asking again. */
  admitGraceMs?: number;
  /** Publish the camera as simulcast layers (default true). */
  simulcast?: boolean;
  /** ms an ICE path may stay `disconnected` before it is restarted (default 2000). */
  iceRestartGraceMs?: number;
}

export interface ConferenceState {
  phase: ConferencePhase;
  role: ConferenceRole | null;
  participants: ConfParticipant[];
  lobby: LobbyEntry[];
  iceServers: IceServer[];
  tracks: TrackInfo[];
  activeSpeaker: string | null;
  reconnecting: boolean;
  sharing: boolean;
  micOn: boolean;
  cameraOn: boolean;
  lastError: string | null;
  /** Bumped whenever the set of received MediaStreamTracks changes. */
  mediaVersion: number;
  /** The peer connection's state ('new' when there is none). */
  mediaState: RTCPeerConnectionState;
}

const TERMINAL: ConferencePhase[] = ['denied', 'removed', 'left', 'ended'];

export interface Conference {
  state: ConferenceState;
  status: Ref<SocketStatus>;
  /** The publisher connection (what this client sends). */
  pc: Ref<RTCPeerConnection | null>;
  /** The subscriber connection (what this client receives). */
  sub: Ref<RTCPeerConnection | null>;
  join(local: MediaStream | null): void;
  leave(): void;
  admit(userId: string): void;
  deny(userId: string): void;
  admitAll(): void;
  setRole(userId: string, role: ConferenceRole): void;
  remove(userId: string): void;
  setMic(on: boolean): void;
  setCamera(on: boolean): void;
  startScreenShare(): Promise<void>;
  stopScreenShare(): void;
  reportView(trackId: string, width: number, height: number): void;
  tiles(): VideoTile[];
  remoteAudio(): { key: string; stream: MediaStream }[];
  isHost(): boolean;
}

/**
 * Throttles the sizes at which a video is shown into `view` reports: sizes are rounded to 16 px
 * (a few pixels of layout jitter do not change the layer), at most one report per interval
 * (the last size wins), and hiding (0 × 0) is reported at once, so the SFU stops sending at once.
 */
export function createViewReporter(emit: (width: number, height: number) => void, intervalMs = 250) {
  let lastAt = Number.NEGATIVE_INFINITY;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let pending: [number, number] | null = null;
  let sent = '';
  const round = (v: number) => (v > 0 ? Math.max(16, Math.round(v / 16) * 16) : 0);
  function flush() {
    timer = null;
    if (!pending) return;
    const [w, h] = pending;
    pending = null;
    lastAt = Date.now();
    const key = `${w}x${h}`;
    if (key === sent) return;
    sent = key;
    emit(w, h);
  }
  return {
    report(width: number, height: number, visible = true) {
      const w = visible ? round(width) : 0;
      const h = visible ? round(height) : 0;
      pending = w && h ? [w, h] : [0, 0];
      if (!w || !h) {
        if (timer) clearTimeout(timer);
        flush();
        return;
      }
      if (timer) return;
      const wait = lastAt + intervalMs - Date.now();
      if (wait <= 0) flush();
      else timer = setTimeout(flush, wait);
    },
    /** Forgets what was sent, so that the next report goes out even if unchanged. */
    reset() {
      sent = '';
    },
    stop() {
      if (timer) clearTimeout(timer);
      timer = null;
      pending = null;
    },
  };
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function useConference(opts: ConferenceOptions): Conference {
  const state = reactive<ConferenceState>({
    phase: 'idle',
    role: null,
    participants: [],
    lobby: [],
    iceServers: [],
    tracks: [],
    activeSpeaker: null,
    reconnecting: false,
    sharing: false,
    micOn: true,
    cameraOn: true,
    lastError: null,
    mediaVersion: 0,
    mediaState: 'new',
  });
  const pc = shallowRef<RTCPeerConnection | null>(null);
  const sub = shallowRef<RTCPeerConnection | null>(null);
  let local: MediaStream | null = null;
  let screen: MediaStream | null = null;
  let screenSender: RTCRtpSender | null = null;
  const pendingCandidates = new Map<RTCPeerConnection, RTCIceCandidateInit[]>();
  let chain: Promise<void> = Promise.resolve();
  let admitTimer: ReturnType<typeof setTimeout> | null = null;
  // Received tracks, by MediaStreamTrack.id, with the stream they came in.
  const received = new Map<string, { track: MediaStreamTrack; stream: MediaStream | null }>();
  const streamCache = new Map<string, MediaStream>();
  const viewSent = new Map<string, string>();
  const iceTimers = new Map<RTCPeerConnection, ReturnType<typeof setTimeout>>();
  const lastRestart = new Map<RTCPeerConnection, number>();

  const makeStream =
    opts.createStream ?? ((tracks: MediaStreamTrack[]) => new MediaStream(tracks));

  const socket = createReconnectingSocket({
    getUrl: opts.getUrl,
    WebSocketImpl: opts.WebSocketImpl,
    backoff: opts.backoff,
    onOpen: () => {
      socket.send({ type: 'join' });
    },
    onFrame: (f) => {
      // Signaling must be handled in order: each step may await the peer connection.
      chain = chain.then(() => handle(f)).catch((e) => {
        console.warn('signaling', e);
      });
    },
    onClose: async ({ wasOpen }) => {
      if (!wasOpen) await opts.onConnectFailure?.();
      if (!TERMINAL.includes(state.phase)) state.reconnecting = true;
    },
    shouldReconnect: () => !TERMINAL.includes(state.phase),
  });

  function send(frame: Frame) {
    return socket.send(frame);
  }

  function bump() {
    state.mediaVersion++;
  }

  function upsertParticipant(p: ConfParticipant) {
    const i = state.participants.findIndex((x) => x.user_id === p.user_id);
    if (i >= 0) state.participants[i] = { ...state.participants[i], ...p };
    else state.participants.push({ ...p });
  }

  function closePeer() {
    for (const ref of [pc, sub]) {
      const old = ref.value;
      ref.value = null;
      if (!old) continue;
      old.onicecandidate = null;
      old.ontrack = null;
      old.onnegotiationneeded = null;
      old.onconnectionstatechange = null;
      old.oniceconnectionstatechange = null;
      const t = iceTimers.get(old);
      if (t) clearTimeout(t);
      iceTimers.delete(old);
      lastRestart.delete(old);
      try {
        old.close();
      } catch {
        /* closed */
      }
    }
    received.clear();
    streamCache.clear();
    viewSent.clear();
    screenSender = null;
    pendingCandidates.clear();
    state.mediaState = 'new';
    bump();
  }

  /**
   * The SFU reads a published track's source from its stream id ("camera-…", "screen-…", see
   * conference-svc sourceOf). Browsers pick random stream ids, so the SDP we send names them:
   * only the copy sent to the server changes; the local description stays as the browser made it.
   */
  function declareSources(sdp: string): string {
    let out = sdp;
    const rename = (stream: MediaStream | null, source: string) => {
      if (!stream?.id) return;
      // a=msid:<stream> <track>, a=ssrc:<n> msid:<stream> <track> and a=msid-semantic: WMS <stream>…
      const re = new RegExp('(msid:|WMS[^\\r\\n]* )' + escapeRe(stream.id) + '(?=\\s)', 'g');
      out = out.replace(re, (_m, pre: string) => `${pre}${source}-${stream.id}`);
    };
    rename(screen, 'screen');
    rename(local, 'camera');
    return out;
  }

  async function negotiate(conn: RTCPeerConnection, iceRestart = false) {
    if (pc.value !== conn || conn.signalingState !== 'stable') return;
    const offer = await conn.createOffer(iceRestart ? { iceRestart: true } : undefined);
    if (pc.value !== conn || conn.signalingState !== 'stable') return;
    await conn.setLocalDescription(offer);
    send({ type: 'offer', sdp: declareSources(conn.localDescription?.sdp ?? offer.sdp ?? '') });
  }

  function newPeer(): RTCPeerConnection {
    const Impl: PeerCtor = opts.RTCPeerConnectionImpl ?? (globalThis.RTCPeerConnection as unknown as PeerCtor);
    const conn = new Impl({ iceServers: state.iceServers as RTCIceServer[] });
    conn.onicecandidate = (ev) => {
      if (ev.candidate) {
        const c = typeof ev.candidate.toJSON === 'function' ? ev.candidate.toJSON() : ev.candidate;
        send({ type: 'candidate', candidate: c });
      }
    };
    conn.onconnectionstatechange = () => {
      if (pc.value !== conn && sub.value !== conn) return;
      updateMediaState();
      if (conn.connectionState === 'failed') restartIce(conn);
    };
    conn.oniceconnectionstatechange = () => {
      if (pc.value !== conn && sub.value !== conn) return;
      const pending = iceTimers.get(conn);
      if (pending) clearTimeout(pending);
      iceTimers.delete(conn);
      switch (conn.iceConnectionState) {
        case 'failed':
          restartIce(conn);
          break;
        case 'disconnected':
          // A short outage heals by itself; one that lasts means the network changed.
          iceTimers.set(
            conn,
            setTimeout(() => {
              iceTimers.delete(conn);
              if (conn.iceConnectionState === 'disconnected') restartIce(conn);
            }, opts.iceRestartGraceMs ?? 2000),
          );
          break;
      }
    };
    return conn;
  }

  /**
   * The path of a connection broke while signaling works (network change). Each connection
   * is restarted by its offerer: the publisher one by us (restartIce makes the next offer carry
   * new credentials), the subscriber one by the SFU, which we ask with `ice_restart`.
   */
  function restartIce(conn: RTCPeerConnection) {
    const now = Date.now();
    if (now - (lastRestart.get(conn) ?? Number.NEGATIVE_INFINITY) < 3000) return;
    lastRestart.set(conn, now);
    if (conn === pc.value) {
      if (typeof conn.restartIce === 'function') conn.restartIce();
      else chain = chain.then(() => negotiate(conn, true)).catch((e) => console.warn('negotiate', e));
    } else if (conn === sub.value) {
      send({ type: 'ice_restart' });
    }
  }

  /** Applies a `layers` frame: only the simulcast layers someone watches are encoded and sent. */
  async function applyLayers(trackId: string, mid: string, active: string[]) {
    const conn = pc.value;
    if (!conn || typeof conn.getTransceivers !== 'function') return;
    const list = conn.getTransceivers();
    const tr =
      (mid ? list.find((t) => t.mid === mid) : undefined) ?? list.find((t) => t.sender?.track?.id === trackId);
    const sender = tr?.sender;
    if (!sender) return;
    const params = sender.getParameters();
    let changed = false;
    for (const enc of params.encodings ?? []) {
      if (!enc.rid) continue;
      const on = active.includes(enc.rid);
      if (enc.active !== on) {
        enc.active = on;
        changed = true;
      }
    }
    if (changed) await sender.setParameters(params);
  }

  function updateMediaState() {
    const states = [pc.value, sub.value].filter(Boolean).map((c) => c!.connectionState);
    state.mediaState = states.includes('failed')
      ? 'failed'
      : states.includes('disconnected')
        ? 'disconnected'
        : (pc.value?.connectionState ?? sub.value?.connectionState ?? 'new');
  }

  function setupPeer() {
    closePeer();
    // Subscriber: the SFU offers what others publish; ontrack hands us their media.
    const subscriber = newPeer();
    sub.value = subscriber;
    subscriber.ontrack = (ev) => {
      const stream = ev.streams?.[0] ?? null;
      const track = ev.track;
      received.set(track.id, { track, stream });
      const drop = () => {
        if (received.get(track.id)?.track === track) {
          received.delete(track.id);
          bump();
        }
      };
      track.addEventListener?.('ended', drop);
      track.addEventListener?.('mute', bump);
      track.addEventListener?.('unmute', bump);
      stream?.addEventListener?.('removetrack', (e: MediaStreamTrackEvent) => {
        if (e.track === track) drop();
      });
      bump();
    };
    // Publisher: our microphone, camera and screen; adding a track asks for an offer.
    const publisher = newPeer();
    pc.value = publisher;
    publisher.onnegotiationneeded = () => {
      chain = chain.then(() => negotiate(publisher)).catch((e) => console.warn('negotiate', e));
    };
    for (const t of local?.getTracks() ?? []) {
      if (t.kind === 'video' && opts.simulcast !== false && typeof publisher.addTransceiver === 'function') {
        publisher.addTransceiver(t, {
          direction: 'sendonly',
          streams: [local!],
          sendEncodings: CAMERA_SIMULCAST.map((e) => ({ ...e })),
        });
      } else {
        publisher.addTrack(t, local!);
      }
    }
    if (screen) {
      const st = screen.getVideoTracks()[0];
      if (st && st.readyState !== 'ended') screenSender = publisher.addTrack(st, screen);
    }
  }

  async function addCandidate(conn: RTCPeerConnection, c: RTCIceCandidateInit) {
    try {
      await conn.addIceCandidate(c);
    } catch {
      // An sdpMid this connection does not know (e.g. empty): fall back to the first section.
      try {
        await conn.addIceCandidate({ candidate: c.candidate, sdpMLineIndex: 0 });
      } catch (e) {
        console.warn('candidate', e);
      }
    }
  }

  async function flushCandidates(conn: RTCPeerConnection) {
    const list = pendingCandidates.get(conn) ?? [];
    pendingCandidates.delete(conn);
    for (const c of list) await addCandidate(conn, c);
  }

  function ufragOf(text: string | undefined | null, re: RegExp): string | null {
    return (text && re.exec(text)?.[1]) || null;
  }

  /** Which of the two connections a candidate from the SFU belongs to. */
  function connectionFor(c: RTCIceCandidateInit): RTCPeerConnection | null {
    if (c.sdpMid && c.sdpMid.startsWith('sfu')) return sub.value;
    const ufrag = ufragOf(c.candidate, /\bufrag (\S+)/) ?? c.usernameFragment ?? null;
    if (ufrag) {
      const subUfrag = ufragOf(sub.value?.remoteDescription?.sdp, /a=ice-ufrag:(\S+)/);
      const pubUfrag = ufragOf(pc.value?.remoteDescription?.sdp, /a=ice-ufrag:(\S+)/);
      if (ufrag === subUfrag) return sub.value;
      if (ufrag === pubUfrag) return pc.value;
    }
    if (c.sdpMid) return pc.value; // the client's own section names: "0", "1", …
    // Unknown: the connection still waiting for candidates of a fresh description.
    return sub.value?.signalingState === 'stable' && sub.value.remoteDescription ? pc.value : (sub.value ?? pc.value);
  }

  function candidateInit(raw: unknown): RTCIceCandidateInit | null {
    if (!raw) return null;
    if (typeof raw === 'string') return { candidate: raw, sdpMLineIndex: 0 };
    if (typeof raw === 'object') return raw as RTCIceCandidateInit;
    return null;
  }

  function clearAdmitTimer() {
    if (admitTimer !== null) {
      clearTimeout(admitTimer);
      admitTimer = null;
    }
  }

  function teardown(phase: ConferencePhase) {
    state.phase = phase;
    state.reconnecting = false;
    clearAdmitTimer();
    closePeer();
    stopScreenTracks();
    socket.close();
  }

  async function handle(f: Frame) {
    switch (f.type) {
      case 'waiting':
        state.phase = 'waiting';
        state.reconnecting = false;
        break;
      case 'admitted':
        state.phase = 'admitted';
        clearAdmitTimer();
        // The server follows with `joined`; if it does not, ask to join again.
        admitTimer = setTimeout(() => {
          admitTimer = null;
          if (state.phase === 'admitted') send({ type: 'join' });
        }, opts.admitGraceMs ?? 3000);
        break;
      case 'denied':
        teardown('denied');
        break;
      case 'removed':
        teardown('removed');
        break;
      case 'ended':
        teardown('ended');
        break;
      case 'joined': {
        clearAdmitTimer();
        state.phase = 'joined';
        state.reconnecting = false;
        state.role = (f.role as ConferenceRole) ?? 'participant';
        state.participants = ((f.participants as ConfParticipant[]) ?? []).map((p) => ({ ...p }));
        state.iceServers = (f.ice_servers as IceServer[]) ?? [];
        state.tracks = [];
        setupPeer();
        break;
      }
      case 'lobby':
        state.lobby = ((f.waiting as LobbyEntry[]) ?? []).map((w) => ({ ...w }));
        break;
      case 'participant_joined': {
        const p = f.participant as ConfParticipant | undefined;
        if (p) upsertParticipant(p);
        state.lobby = state.lobby.filter((w) => w.user_id !== p?.user_id);
        break;
      }
      case 'participant_left': {
        const id = String(f.user_id ?? '');
        state.participants = state.participants.filter((p) => p.user_id !== id);
        state.tracks = state.tracks.filter((t) => t.user_id !== id);
        if (state.activeSpeaker === id) state.activeSpeaker = null;
        break;
      }
      case 'role_changed': {
        const id = String(f.user_id ?? '');
        const role = f.role as ConferenceRole;
        const p = state.participants.find((x) => x.user_id === id);
        if (p) p.role = role;
        if (id === opts.selfId()) {
          state.role = role;
          if (role !== 'host') state.lobby = [];
        }
        break;
      }
      case 'tracks':
        // Every track this client receives, each time: the list replaces the previous one.
        state.tracks = ((f.tracks as TrackInfo[]) ?? []).map((t) => ({ ...t }));
        break;
      case 'active_speaker':
        state.activeSpeaker = (f.user_id as string) || null;
        break;
      case 'layers':
        await applyLayers(String(f.track_id ?? ''), String(f.mid ?? ''), Array.isArray(f.active) ? (f.active as string[]) : []);
        break;
      case 'offer': {
        // Only the SFU's subscriber connection is offered to us.
        const conn = sub.value;
        if (!conn) break;
        await conn.setRemoteDescription({ type: 'offer', sdp: String(f.sdp ?? '') });
        await flushCandidates(conn);
        const answer = await conn.createAnswer();
        await conn.setLocalDescription(answer);
        send({ type: 'answer', sdp: conn.localDescription?.sdp ?? answer.sdp });
        break;
      }
      case 'answer': {
        const conn = pc.value;
        if (!conn || conn.signalingState !== 'have-local-offer') break;
        await conn.setRemoteDescription({ type: 'answer', sdp: String(f.sdp ?? '') });
        await flushCandidates(conn);
        break;
      }
      case 'candidate': {
        const c = candidateInit(f.candidate);
        const conn = c ? connectionFor(c) : null;
        if (!conn || !c) break;
        if (!conn.remoteDescription) {
          const list = pendingCandidates.get(conn) ?? [];
          list.push(c);
          pendingCandidates.set(conn, list);
        } else {
          await addCandidate(conn, c);
        }
        break;
      }
      case 'error':
        state.lastError = String(f.message || f.code || 'error');
        if (f.code === 'conference_ended' || f.code === 'ended') teardown('ended');
        break;
      default:
        break;
    }
  }

  function stopScreenTracks() {
    screen?.getTracks().forEach((t) => t.stop());
    screen = null;
    state.sharing = false;
  }

  function findReceived(info: TrackInfo): MediaStreamTrack | null {
    const direct = received.get(info.track_id);
    if (direct && direct.track.readyState !== 'ended') return direct.track;
    for (const r of received.values()) {
      if (r.track.kind === info.kind && r.stream?.id === info.stream_id && r.track.readyState !== 'ended') {
        return r.track;
      }
    }
    return null;
  }

  function cachedStream(key: string, tracks: MediaStreamTrack[]): MediaStream {
    let s = streamCache.get(key);
    if (!s) {
      s = makeStream(tracks);
      streamCache.set(key, s);
      return s;
    }
    const have = s.getTracks();
    for (const t of have) if (!tracks.includes(t)) s.removeTrack(t);
    for (const t of tracks) if (!have.includes(t)) s.addTrack(t);
    return s;
  }

  function stopScreenShare() {
    if (screenSender && pc.value) {
      try {
        pc.value.removeTrack(screenSender);
      } catch {
        /* closed */
      }
    }
    screenSender = null;
    stopScreenTracks();
    bump();
  }

  function nameOf(userId: string): string {
    if (userId === opts.selfId()) return opts.selfName?.() ?? 'You';
    return state.participants.find((p) => p.user_id === userId)?.username ?? 'Guest';
  }

  return {
    state,
    status: socket.status,
    pc,
    sub,
    join(stream) {
      local = stream;
      state.micOn = !!stream?.getAudioTracks().some((t) => t.enabled);
      state.cameraOn = !!stream?.getVideoTracks().some((t) => t.enabled);
      state.phase = 'connecting';
      socket.connect();
    },
    leave() {
      send({ type: 'leave' });
      teardown('left');
    },
    admit(userId) {
      if (send({ type: 'admit', user_id: userId })) state.lobby = state.lobby.filter((w) => w.user_id !== userId);
    },
    deny(userId) {
      if (send({ type: 'deny', user_id: userId })) state.lobby = state.lobby.filter((w) => w.user_id !== userId);
    },
    admitAll() {
      if (send({ type: 'admit_all' })) state.lobby = [];
    },
    setRole(userId, role) {
      send({ type: 'set_role', user_id: userId, role });
    },
    remove(userId) {
      send({ type: 'remove', user_id: userId });
    },
    setMic(on) {
      local?.getAudioTracks().forEach((t) => (t.enabled = on));
      state.micOn = on;
    },
    setCamera(on) {
      local?.getVideoTracks().forEach((t) => (t.enabled = on));
      state.cameraOn = on;
      bump();
    },
    async startScreenShare() {
      if (state.sharing) return;
      const gdm =
        opts.getDisplayMedia ??
        ((c: DisplayMediaStreamOptions) => navigator.mediaDevices.getDisplayMedia(c));
      const s = await gdm({ video: true, audio: false });
      const track = s.getVideoTracks()[0];
      if (!track) return;
      screen = s;
      state.sharing = true;
      track.addEventListener?.('ended', () => stopScreenShare());
      if (pc.value) screenSender = pc.value.addTrack(track, s); // negotiationneeded → offer
      bump();
    },
    stopScreenShare,
    reportView(trackId, width, height) {
      if (!trackId) return;
      const w = Math.round(width);
      const h = Math.round(height);
      const key = `${w}x${h}`;
      if (viewSent.get(trackId) === key) return;
      if (send({ type: 'view', track_id: trackId, width: w, height: h })) viewSent.set(trackId, key);
    },
    tiles() {
      void state.mediaVersion; // re-run when tracks arrive or leave
      const self = opts.selfId();
      const out: VideoTile[] = [];
      const localVideo = local?.getVideoTracks()[0] ?? null;
      out.push({
        key: `${self}:camera`,
        user_id: self,
        username: nameOf(self),
        source: 'camera',
        local: true,
        track_id: '',
        stream: local,
        hasVideo: !!localVideo && state.cameraOn,
      });
      const screenTrack = screen?.getVideoTracks()[0];
      if (screenTrack) {
        out.push({
          key: `${self}:screen`,
          user_id: self,
          username: nameOf(self),
          source: 'screen',
          local: true,
          track_id: '',
          stream: screen,
          hasVideo: true,
        });
      }
      const seen = new Set<string>([self]);
      for (const p of state.participants) {
        if (p.user_id === self) continue;
        seen.add(p.user_id);
        const cam = state.tracks.find((t) => t.user_id === p.user_id && t.kind === 'video' && t.source === 'camera');
        const camTrack = cam ? findReceived(cam) : null;
        out.push({
          key: `${p.user_id}:camera`,
          user_id: p.user_id,
          username: p.username,
          source: 'camera',
          local: false,
          track_id: cam?.track_id ?? '',
          stream: camTrack ? cachedStream(`${p.user_id}:camera`, [camTrack]) : null,
          hasVideo: !!camTrack && !camTrack.muted,
        });
      }
      for (const t of state.tracks) {
        if (t.kind !== 'video' || t.source !== 'screen' || t.user_id === self) continue;
        const tr = findReceived(t);
        if (!tr) continue;
        out.push({
          key: `${t.user_id}:screen`,
          user_id: t.user_id,
          username: nameOf(t.user_id),
          source: 'screen',
          local: false,
          track_id: t.track_id,
          stream: cachedStream(`${t.user_id}:screen`, [tr]),
          hasVideo: true,
        });
      }
      // Media from someone the participant list does not show yet.
      for (const t of state.tracks) {
        if (t.kind !== 'video' || t.source !== 'camera' || seen.has(t.user_id)) continue;
        const tr = findReceived(t);
        if (!tr) continue;
        seen.add(t.user_id);
        out.push({
          key: `${t.user_id}:camera`,
          user_id: t.user_id,
          username: nameOf(t.user_id),
          source: 'camera',
          local: false,
          track_id: t.track_id,
          stream: cachedStream(`${t.user_id}:camera`, [tr]),
          hasVideo: true,
        });
      }
      return out;
    },
    remoteAudio() {
      void state.mediaVersion;
      const out: { key: string; stream: MediaStream }[] = [];
      const self = opts.selfId();
      for (const t of state.tracks) {
        if (t.kind !== 'audio' || t.user_id === self) continue;
        const tr = findReceived(t);
        if (tr) out.push({ key: `${t.user_id}:${t.source}:audio`, stream: cachedStream(`${t.track_id}:audio`, [tr]) });
      }
      // Audio the server has not described (yet): play it anyway.
      const described = new Set(state.tracks.map((t) => t.track_id));
      for (const [id, r] of received) {
        if (r.track.kind === 'audio' && !described.has(id) && !state.tracks.some((t) => t.stream_id === r.stream?.id && t.kind === 'audio')) {
          out.push({ key: `raw:${id}`, stream: cachedStream(`raw:${id}`, [r.track]) });
        }
      }
      return out;
    },
    isHost: () => state.role === 'host',
  };
}
