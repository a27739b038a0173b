import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createViewReporter, useConference } from '@/composables/useConference';
import { FakeWebSocket, flush } from './support/fakeWebSocket';
import { FakePeerConnection, FakeStream, FakeTrack } from './support/fakeMedia';

const ME = 'me';

function make() {
  const screenTrack = new FakeTrack('video', 'screen-track');
  const gdm = vi.fn(async () => new FakeStream([screenTrack], 'screen-stream') as unknown as MediaStream);
  const conf = useConference({
    getUrl: () => 'ws://test/api/v1/conferences/k1/ws?access_token=t',
    selfId: () => ME,
    selfName: () => 'ana',
    WebSocketImpl: FakeWebSocket,
    RTCPeerConnectionImpl: FakePeerConnection as unknown as new () => RTCPeerConnection,
    getDisplayMedia: gdm,
    createStream: (tracks) => new FakeStream(tracks as unknown as FakeTrack[]) as unknown as MediaStream,
    backoff: { baseMs: 100, maxMs: 1000, factor: 2, jitter: 0 },
    admitGraceMs: 500,
  });
  const local = new FakeStream([new FakeTrack('audio', 'my-mic'), new FakeTrack('video', 'my-cam')], 'my-stream');
  return { conf, local, gdm, screenTrack };
}

async function settle() {
  await flush(20);
  await vi.advanceTimersByTimeAsync(0);
  await flush(20);
}

async function joinOpen(conf: ReturnType<typeof useConference>, local: FakeStream) {
  conf.join(local as unknown as MediaStream);
  await flush();
  const ws = FakeWebSocket.last();
  ws.serverOpen();
  return ws;
}

const joined = (role = 'participant') => ({
  type: 'joined',
  role,
  participants: [
    { user_id: ME, username: 'ana', role },
    { user_id: 'bob', username: 'bob', role: 'host' },
  ],
  ice_servers: [{ urls: 'stun:127.0.0.1:3478' }],
});

describe('conference signaling', () => {
  beforeEach(() => {
    FakeWebSocket.reset();
    FakePeerConnection.reset();
    vi.useFakeTimers();
  });
  afterEach(() => vi.useRealTimers());

  it('goes join → waiting → admitted → joined and then offers its media', async () => {
    const { conf, local } = make();
    const ws = await joinOpen(conf, local);
    expect(conf.state.phase).toBe('connecting');
    expect(ws.frames()).toEqual([{ type: 'join' }]);
    ws.serverSend({ type: 'waiting' });
    await settle();
    expect(conf.state.phase).toBe('waiting');
    expect(FakePeerConnection.instances).toHaveLength(0); // no media before admission
    ws.serverSend({ type: 'admitted' });
    await settle();
    expect(conf.state.phase).toBe('admitted');
    ws.serverSend(joined());
    await settle();
    expect(conf.state.phase).toBe('joined');
    expect(conf.state.role).toBe('participant');
    const pc = FakePeerConnection.last();
    expect(pc.config?.iceServers).toEqual([{ urls: 'stun:127.0.0.1:3478' }]);
    expect(pc.senders.map((s) => s.track.id)).toEqual(['my-mic', 'my-cam']);
    // The stream ids in what the server sees declare the sources (the SFU reads them).
    expect(ws.framesOfType('offer')).toEqual([
      {
        type: 'offer',
        sdp:
          'offer-1\r\na=msid-semantic: WMS camera-my-stream' +
          '\r\na=msid:camera-my-stream my-mic\r\na=ssrc:1 msid:camera-my-stream my-mic' +
          '\r\na=msid:camera-my-stream my-cam\r\na=ssrc:1 msid:camera-my-stream my-cam\r\n',
      },
    ]);
    expect(pc.localDescription?.sdp).toContain('a=msid:my-stream my-cam'); // local copy untouched
    ws.serverSend({ type: 'answer', sdp: 'server-answer' });
    await settle();
    expect(pc.remoteDescription).toEqual({ type: 'answer', sdp: 'server-answer' });
    expect(pc.signalingState).toBe('stable');
  });

  it('asks to join again if `joined` does not follow `admitted`', async () => {
    const { conf, local } = make();
    const ws = await joinOpen(conf, local);
    ws.serverSend({ type: 'waiting' });
    ws.serverSend({ type: 'admitted' });
    await settle();
    await vi.advanceTimersByTimeAsync(500);
    expect(ws.framesOfType('join')).toHaveLength(2);
  });

  it('stops for good when denied', async () => {
    const { conf, local } = make();
    const ws = await joinOpen(conf, local);
    ws.serverSend({ type: 'waiting' });
    ws.serverSend({ type: 'denied' });
    await settle();
    expect(conf.state.phase).toBe('denied');
    await vi.advanceTimersByTimeAsync(5000);
    expect(FakeWebSocket.instances).toHaveLength(1);
  });

  it('lets a host admit, deny and admit everyone from the lobby', async () => {
    const { conf, local } = make();
    const ws = await joinOpen(conf, local);
    ws.serverSend(joined('host'));
    ws.serverSend({
      type: 'lobby',
      waiting: [
        { user_id: 'u1', username: 'cy' },
        { user_id: 'u2', username: 'dee' },
        { user_id: 'u3', username: 'eve' },
      ],
    });
    await settle();
    expect(conf.isHost()).toBe(true);
    expect(conf.state.lobby.map((w) => w.user_id)).toEqual(['u1', 'u2', 'u3']);
    conf.admit('u1');
    conf.deny('u2');
    expect(conf.state.lobby.map((w) => w.user_id)).toEqual(['u3']);
    conf.admitAll();
    expect(conf.state.lobby).toEqual([]);
    conf.setRole('bob', 'participant');
    conf.remove('bob');
    expect(ws.frames().slice(-5)).toEqual([
      { type: 'admit', user_id: 'u1' },
      { type: 'deny', user_id: 'u2' },
      { type: 'admit_all' },
      { type: 'set_role', user_id: 'bob', role: 'participant' },
      { type: 'remove', user_id: 'bob' },
    ]);
    // The server's next lobby list is the truth.
    ws.serverSend({ type: 'lobby', waiting: [{ user_id: 'u9', username: 'zed' }] });
    ws.serverSend({ type: 'participant_joined', participant: { user_id: 'u1', username: 'cy', role: 'participant' } });
    ws.serverSend({ type: 'role_changed', user_id: ME, role: 'participant' });
    await settle();
    expect(conf.state.participants.map((p) => p.user_id)).toEqual([ME, 'bob', 'u1']);
    expect(conf.state.role).toBe('participant');
    expect(conf.state.lobby).toEqual([]); // not a host any more
  });

  it('publishes on one connection and receives on another, routing candidates between them', async () => {
    const { conf, local } = make();
    const ws = await joinOpen(conf, local);
    ws.serverSend(joined());
    await settle();
    expect(FakePeerConnection.instances).toHaveLength(2);
    const [sub, pub] = FakePeerConnection.instances;
    expect(conf.sub.value).toBe(sub as unknown as RTCPeerConnection);
    expect(conf.pc.value).toBe(pub as unknown as RTCPeerConnection);
    // Only the publisher carries our tracks and offers.
    expect(pub.senders).toHaveLength(2);
    expect(sub.senders).toHaveLength(0);
    expect(pub.signalingState).toBe('have-local-offer');
    expect(sub.signalingState).toBe('stable');

    // The SFU offers its subscriber connection while our offer is still open: no glare.
    ws.serverSend({ type: 'candidate', candidate: { candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host ufrag S', sdpMid: 'sfu1', sdpMLineIndex: 0 } });
    ws.serverSend({ type: 'offer', sdp: 'server-offer\r\na=ice-ufrag:S\r\n' });
    await settle();
    expect(sub.log).toEqual(['remote:offer', 'local:answer']);
    expect(pub.log).toEqual(['local:offer']); // untouched, no rollback
    expect(sub.candidates).toHaveLength(1); // queued until the offer, then applied
    expect(ws.framesOfType('answer')).toHaveLength(1);
    expect(ws.framesOfType('answer')[0].sdp).toMatch(/^answer-to-server-offer/);

    ws.serverSend({ type: 'answer', sdp: 'pub-answer\r\na=ice-ufrag:P\r\n' });
    ws.serverSend({ type: 'candidate', candidate: { candidate: 'candidate:2 1 udp 1 127.0.0.1 6000 typ host ufrag P', sdpMid: '0', sdpMLineIndex: 0 } });
    // Without an sdpMid the ufrag decides.
    ws.serverSend({ type: 'candidate', candidate: 'candidate:3 1 udp 1 127.0.0.1 7000 typ host ufrag S' });
    await settle();
    expect(pub.remoteDescription?.type).toBe('answer');
    expect(pub.candidates).toHaveLength(1);
    expect(sub.candidates).toHaveLength(2);

    // Our candidates go out as RTCIceCandidateInit objects.
    pub.onicecandidate?.({ candidate: { toJSON: () => ({ candidate: 'c-local', sdpMid: '0' }) } });
    expect(ws.framesOfType('candidate')).toEqual([{ type: 'candidate', candidate: { candidate: 'c-local', sdpMid: '0' } }]);
  });

  it('maps received tracks to people and sources with the `tracks` event', async () => {
    const { conf, local } = make();
    const ws = await joinOpen(conf, local);
    ws.serverSend(joined());
    await settle();
    const pc = FakePeerConnection.instances[0]; // the subscriber connection
    const bobCam = new FakeTrack('video', 'bob-cam');
    const bobMic = new FakeTrack('audio', 'bob-mic');
    const bobScreen = new FakeTrack('video', 'renamed-by-browser'); // matched by stream id instead
    pc.emitTrack(bobCam, new FakeStream([bobCam, bobMic], 'bob-stream'));
    pc.emitTrack(bobMic, new FakeStream([bobCam, bobMic], 'bob-stream'));
    pc.emitTrack(bobScreen, new FakeStream([bobScreen], 'bob-screen-stream'));
    ws.serverSend({
      type: 'tracks',
      tracks: [
        { track_id: 'bob-cam', stream_id: 'bob-stream', user_id: 'bob', kind: 'video', source: 'camera' },
        { track_id: 'bob-mic', stream_id: 'bob-stream', user_id: 'bob', kind: 'audio', source: 'mic' },
        { track_id: 'sfu-screen-1', stream_id: 'bob-screen-stream', user_id: 'bob', kind: 'video', source: 'screen' },
      ],
    });
    ws.serverSend({ type: 'active_speaker', user_id: 'bob' });
    await settle();
    const tiles = conf.tiles();
    expect(tiles.map((t) => t.key)).toEqual(['me:camera', 'bob:camera', 'bob:screen']);
    const cam = tiles.find((t) => t.key === 'bob:camera')!;
    expect(cam.username).toBe('bob');
    expect((cam.stream as unknown as FakeStream).getTracks()).toEqual([bobCam]);
    const screen = tiles.find((t) => t.key === 'bob:screen')!;
    expect((screen.stream as unknown as FakeStream).getTracks()).toEqual([bobScreen]);
    expect(conf.remoteAudio()).toHaveLength(1);
    expect(conf.state.activeSpeaker).toBe('bob');
    // Streams are reused between renders (a new object would restart the <video>).
    expect(conf.tiles().find((t) => t.key === 'bob:camera')!.stream).toBe(cam.stream);
    // Each `tracks` frame is the whole list: a screen share that stopped disappears.
    ws.serverSend({
      type: 'tracks',
      tracks: [{ track_id: 'bob-cam', stream_id: 'bob-stream', user_id: 'bob', kind: 'video', source: 'camera' }],
    });
    await settle();
    expect(conf.tiles().map((t) => t.key)).toEqual(['me:camera', 'bob:camera']);
    ws.serverSend({ type: 'participant_left', user_id: 'bob' });
    await settle();
    expect(conf.tiles().map((t) => t.key)).toEqual(['me:camera']);
  });

  it('shares the screen as an extra track and renegotiates', async () => {
    const { conf, local, gdm, screenTrack } = make();
    const ws = await joinOpen(conf, local);
    ws.serverSend(joined());
    await settle();
    ws.serverSend({ type: 'answer', sdp: 'a1' });
    await settle();
    const pc = FakePeerConnection.last();
    await conf.startScreenShare();
    await settle();
    expect(gdm).toHaveBeenCalledTimes(1);
    expect(conf.state.sharing).toBe(true);
    expect(pc.senders.map((s) => s.track.id)).toContain('screen-track');
    expect(ws.framesOfType('offer')).toHaveLength(2);
    const offer = String(ws.framesOfType('offer')[1].sdp);
    expect(offer).toContain('a=msid:screen-screen-stream screen-track');
    expect(offer).toContain('a=msid-semantic: WMS camera-my-stream screen-screen-stream');
    expect(offer).toContain('a=msid:camera-my-stream my-cam');
    expect(conf.tiles().map((t) => t.key)).toContain('me:screen');
    ws.serverSend({ type: 'answer', sdp: 'a2' });
    await settle();
    conf.stopScreenShare();
    await settle();
    expect(pc.senders.map((s) => s.track.id)).not.toContain('screen-track');
    expect(screenTrack.readyState).toBe('ended');
    expect(conf.state.sharing).toBe(false);
    expect(ws.framesOfType('offer')).toHaveLength(3);
  });

  it('shows a reconnect notice after a drop and joins again with a new peer connection', async () => {
    const { conf, local } = make();
    const ws1 = await joinOpen(conf, local);
    ws1.serverSend(joined());
    await settle();
    const pc1 = FakePeerConnection.last();
    ws1.serverDrop();
    await settle();
    expect(conf.state.reconnecting).toBe(true);
    await vi.advanceTimersByTimeAsync(100);
    const ws2 = FakeWebSocket.last();
    expect(ws2).not.toBe(ws1);
    ws2.serverOpen();
    expect(ws2.frames()).toEqual([{ type: 'join' }]);
    ws2.serverSend(joined());
    await settle();
    expect(conf.state.reconnecting).toBe(false);
    expect(pc1.closed).toBe(true);
    expect(FakePeerConnection.instances).toHaveLength(4); // a new publisher and subscriber
    expect(FakePeerConnection.instances.slice(0, 2).every((p) => p.closed)).toBe(true);
  });

  it('restarts ICE when the media path fails and reports its state', async () => {
    const { conf, local } = make();
    const ws = await joinOpen(conf, local);
    ws.serverSend(joined());
    await settle();
    ws.serverSend({ type: 'answer', sdp: 'a1' });
    await settle();
    const pc = FakePeerConnection.last();
    pc.setConnectionState('connected');
    expect(conf.state.mediaState).toBe('connected');
    pc.setConnectionState('failed');
    await settle();
    expect(conf.state.mediaState).toBe('failed');
    expect(pc.iceRestarts).toBe(1);
    expect(ws.framesOfType('offer')).toHaveLength(2);
  });

  it('ends when removed, and leave() says goodbye', async () => {
    const a = make();
    const ws = await joinOpen(a.conf, a.local);
    ws.serverSend(joined());
    ws.serverSend({ type: 'removed' });
    await settle();
    expect(a.conf.state.phase).toBe('removed');
    expect(FakePeerConnection.last().closed).toBe(true);

    const e = make();
    const wsE = await joinOpen(e.conf, e.local);
    wsE.serverSend(joined());
    wsE.serverSend({ type: 'ended' });
    await settle();
    expect(e.conf.state.phase).toBe('ended');
    const sockets = FakeWebSocket.instances.length;
    await vi.advanceTimersByTimeAsync(5000);
    expect(FakeWebSocket.instances.length).toBe(sockets); // no reconnect after the end

    const b = make();
    const ws2 = await joinOpen(b.conf, b.local);
    ws2.serverSend(joined());
    await settle();
    b.conf.leave();
    expect(ws2.frames().at(-1)).toEqual({ type: 'leave' });
    expect(b.conf.state.phase).toBe('left');
  });

  it('toggles mic and camera by enabling tracks', async () => {
    const { conf, local } = make();
    await joinOpen(conf, local);
    conf.setMic(false);
    conf.setCamera(false);
    expect(local.getAudioTracks()[0].enabled).toBe(false);
    expect(local.getVideoTracks()[0].enabled).toBe(false);
    expect(conf.tiles()[0].hasVideo).toBe(false);
  });

  it('publishes the camera as three simulcast layers and the microphone as one stream', async () => {
    const { conf, local } = make();
    const ws = await joinOpen(conf, local);
    ws.serverSend(joined());
    await settle();
    const pub = FakePeerConnection.last();
    const cam = pub.senders.find((s) => s.track.id === 'my-cam')!;
    const mic = pub.senders.find((s) => s.track.id === 'my-mic')!;
    expect(cam.encodings.map((e) => [e.rid, e.scaleResolutionDownBy])).toEqual([
      ['q', 4],
      ['h', 2],
      ['f', 1],
    ]);
    expect(cam.encodings.every((e) => (e.maxBitrate ?? 0) > 0)).toBe(true);
    expect(cam.stream.id).toBe('my-stream');
    expect(mic.encodings.map((e) => e.rid)).toEqual([undefined]);
  });

  it('stops and resumes simulcast layers as `layers` frames ask', async () => {
    const { conf, local } = make();
    const ws = await joinOpen(conf, local);
    ws.serverSend(joined());
    await settle();
    const pub = FakePeerConnection.last();
    const cam = pub.senders.find((s) => s.track.id === 'my-cam')!;
    ws.serverSend({ type: 'layers', track_id: 'my-cam', mid: cam.mid, active: ['q'] });
    await settle();
    expect(cam.encodings.map((e) => e.active)).toEqual([true, false, false]);
    // By track id alone (a server that does not know the mid), and unchanged layers are not re-applied.
    ws.serverSend({ type: 'layers', track_id: 'my-cam', active: ['q', 'f'] });
    ws.serverSend({ type: 'layers', track_id: 'my-cam', active: ['q', 'f'] });
    await settle();
    expect(cam.encodings.map((e) => e.active)).toEqual([true, false, true]);
    expect(cam.applied).toHaveLength(2);
    // A frame about an unknown track, or a non-simulcast one, changes nothing.
    ws.serverSend({ type: 'layers', track_id: 'nope', active: [] });
    ws.serverSend({ type: 'layers', track_id: 'my-mic', active: [] });
    await settle();
    expect(cam.applied).toHaveLength(2);
    expect(pub.senders.find((s) => s.track.id === 'my-mic')!.applied).toHaveLength(0);
  });

  it('restarts ICE on both connections when their paths break: itself for the publisher, via ice_restart for the subscriber', async () => {
    const { conf, local } = make();
    const ws = await joinOpen(conf, local);
    ws.serverSend(joined());
    await settle();
    ws.serverSend({ type: 'answer', sdp: 'a1' });
    await settle();
    const [sub, pub] = FakePeerConnection.instances;
    // A short outage heals by itself: nothing is restarted.
    sub.setIceConnectionState('disconnected');
    await vi.advanceTimersByTimeAsync(1000);
    sub.setIceConnectionState('connected');
    await vi.advanceTimersByTimeAsync(5000);
    expect(ws.framesOfType('ice_restart')).toHaveLength(0);
    // One that lasts is restarted.
    sub.setIceConnectionState('disconnected');
    pub.setIceConnectionState('disconnected');
    await vi.advanceTimersByTimeAsync(2100);
    await settle();
    expect(ws.framesOfType('ice_restart')).toHaveLength(1);
    expect(pub.iceRestarts).toBe(1);
    expect(ws.framesOfType('offer')).toHaveLength(2);
    // Failing right after does not restart again at once.
    sub.setIceConnectionState('failed');
    await settle();
    expect(ws.framesOfType('ice_restart')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(3000);
    sub.setIceConnectionState('failed');
    await settle();
    expect(ws.framesOfType('ice_restart')).toHaveLength(2);
  });
});

describe('view reporter', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('rounds sizes, throttles resizes to the latest and reports hiding at once', async () => {
    const sent: Array<[number, number]> = [];
    const r = createViewReporter((w, h) => sent.push([w, h]), 250);
    r.report(641, 359);
    expect(sent).toEqual([[640, 352]]);
    r.report(700, 400);
    r.report(1280, 721);
    expect(sent).toHaveLength(1); // within the interval: held back
    await vi.advanceTimersByTimeAsync(250);
    expect(sent).toEqual([
      [640, 352],
      [1280, 720],
    ]);
    r.report(1283, 722); // the same after rounding
    await vi.advanceTimersByTimeAsync(500);
    expect(sent).toHaveLength(2);
    r.report(1280, 720, false); // scrolled away / page hidden
    expect(sent.at(-1)).toEqual([0, 0]);
    r.report(0, 0);
    expect(sent).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(250);
    r.report(1280, 720);
    expect(sent.at(-1)).toEqual([1280, 720]);
    r.reset();
    await vi.advanceTimersByTimeAsync(250);
    r.report(1280, 720);
    expect(sent).toHaveLength(5); // after reset the same size goes out again
    r.report(320, 180);
    r.stop();
    await vi.advanceTimersByTimeAsync(1000);
    expect(sent).toHaveLength(5);
  });
});
