// FOCUSR camera component: the ReactiveHTML "render" script (runs once per view).
// Named nodes from the template: root, screen, video, msg, badge, keys, keys_btn, webcam_btn, file_input, play_btn,
// open_btn, flip_btn, seek, counters.
// `state` lives as long as the view; `data` holds the synced parameters.
//
// Frames go up as one binary message: [u32 header length][JSON header][JPEG]. At most one
// frame is in flight. While one is, a new video frame is encoded at once and waits as the
// one ready frame (a newer one replaces it when the reply is nearly due; the older counts as
// skipped), so the moment a reply frees the slot a recent frame goes, already encoded: the
// round trip, not the camera's tick or the encoder, sets the pace, and latency cannot pile
// up. Latency is timed from when that video frame was shown to the page, the wait included.
const S = state
S.seq = 0
S.inflight = null
S.sentAt = 0
S.clicks = 0
S.looping = false
S.paused = false
S.stream = null
S.url = null
S.fw = 0
S.fh = 0
S.counts = {captured: 0, sent: 0, displayed: 0, skipped: 0, lost: 0}
S.prev = {captured: 0, sent: 0, displayed: 0, at: performance.now()}
S.latency = []
S.grab = document.createElement('canvas')
S.gctx = S.grab.getContext('2d')
S.ctx = screen.getContext('2d')
S.lastHover = 0
S.frameAt = 0  // when the newest video frame was presented
S.gap = 33  // the time between camera frames, smoothed
S.ready = null  // {seq, buf}: an encoded frame waiting for the slot
S.encoding = false
S.rtt = 0  // smoothed send-to-reply time
S.gen = 0  // which source the frames come from
S.sentTimes = {}
root.focusr = S  // for tests and debugging: counters, last reply
S.data = data

// over a source that plays on, the line is a banner along the bottom, not a veil over the picture
S.say = (text, kind) => {
  msg.textContent = text || ''
  msg.className = 'focusr-msg' + (kind ? ' ' + kind : '') + (S.looping ? ' banner' : '')
  msg.style.display = text ? 'flex' : 'none'
}
S.fail = (text) => {
  S.say(text, 'error')
  data.error = `${Date.now()}|${text}`
  // over a source that is still playing (a refused file), the line goes after a while; the
  // notification stays in the corner
  clearTimeout(S.failTimer)
  if (S.looping) S.failTimer = setTimeout(() => { if (S.looping && msg.textContent === text) S.say('') }, 8000)
}

S.staleUpTo = 0  // replies to frames up to this seq are from a stopped source: never drawn
S.stopSource = () => {
  S.gen++  // a frame still being encoded from this source is dropped
  S.staleUpTo = S.seq
  S.looping = false
  if (S.stream) { S.stream.getTracks().forEach((t) => t.stop()); S.stream = null }
  if (S.url) { URL.revokeObjectURL(S.url); S.url = null }
  video.pause()
  video.removeAttribute('src')
  video.srcObject = null
  S.inflight = null
  S.ready = null
}

// The toolbar follows the source: Pause only with something to pause, the seek bar only for a file.
S.showControls = () => {
  play_btn.disabled = data.source === 'none'
  if (data.source !== 'webcam') flip_btn.style.display = 'none'
  seek.style.display = S.fileName ? '' : 'none'
}

// A new source starts fresh: no hover here, and the server lets go of the subject and marks
// the plots (CameraView.started).
S.newSource = (source, fileName) => {
  S.fileName = fileName || null
  data.source = source
  data.hover = []
  data.started = data.started + 1
  S.showControls()
}

// Nothing left: no picture of the old source, no controls for it.
S.noSource = () => {
  S.stopSource()
  S.fileName = null
  data.source = 'none'
  S.ctx.clearRect(0, 0, screen.width, screen.height)
  S.setPaused(false)
  S.showControls()
}

// What this browser decodes, as it says itself (canPlayType): for the refusal message and the
// file picker, which offers only what can be played.
S.formats = (() => {
  const v = document.createElement('video')
  const can = (type) => v.canPlayType(type) !== ''
  const codecs = {
    mp4: [['H.264', 'video/mp4; codecs="avc1.42E01E"'], ['VP9', 'video/mp4; codecs="vp09.00.10.08"'],
          ['AV1', 'video/mp4; codecs="av01.0.05M.08"']],
    webm: [['VP8', 'video/webm; codecs="vp8"'], ['VP9', 'video/webm; codecs="vp9"'],
           ['AV1', 'video/webm; codecs="av01.0.05M.08"']],
  }
  const list = (names) => names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}` : names[0]
  const out = {}
  for (const box in codecs) out[box] = codecs[box].filter(([, type]) => can(type)).map(([name]) => name)
  const parts = []
  if (out.mp4.length) parts.push(`${list(out.mp4)} in MP4`)
  if (out.webm.length) parts.push(`${list(out.webm)} in WebM`)
  const accept = []
  if (out.mp4.length) accept.push('video/mp4', '.mp4', '.m4v')
  if (out.webm.length) accept.push('video/webm', '.webm')
  if (can('video/quicktime')) accept.push('video/quicktime', '.mov')
  if (can('video/ogg; codecs="theora"')) accept.push('video/ogg', '.ogv')
  return {
    text: parts.length ? `This browser plays ${parts.join(', and ')}.` : 'This browser reports no video format it plays.',
    accept: accept.join(','),
  }
})()
file_input.accept = S.formats.accept

// The first bytes say what a file really is, whatever its name: for the words of a refusal.
S.sniff = async (file) => {
  const b = new Uint8Array(await file.slice(0, 12).arrayBuffer())
  const text = (i, n) => String.fromCharCode(...b.subarray(i, i + n))
  if (b.length === 0) return 'empty'
  if (b[0] === 0x1a && b[1] === 0x45 && b[2] === 0xdf && b[3] === 0xa3) return 'webm'
  if (/^(ftyp|moov|mdat|free|wide|skip)$/.test(text(4, 4))) return 'mp4'
  if (text(0, 4) === 'RIFF' && text(8, 3) === 'AVI') return 'avi'
  if (text(0, 4) === 'OggS') return 'ogg'
  return 'unknown'
}

// Try a file in a detached <video>, leaving the one on screen alone: it can play once its first
// frame is decoded; an error, no picture, or nothing within 10 s, and it cannot.
S.probe = (url) => new Promise((resolve) => {
  const v = document.createElement('video')
  v.muted = true
  v.playsInline = true
  v.preload = 'auto'
  let timer = null
  const done = (ok, why) => {
    clearTimeout(timer)
    v.onloadeddata = v.onerror = null
    v.removeAttribute('src')
    v.load()
    resolve({ok: ok, why: why})
  }
  v.onloadeddata = () => done(v.videoWidth > 0 && v.videoHeight > 0, 'no picture')
  v.onerror = () => done(false, 'error')
  timer = setTimeout(() => done(false, 'timeout'), 10000)
  v.src = url
})

S.refusal = (name, kind, why) => {
  const fix = `Convert it to H.264 MP4: focusr render "${name}" -o converted.mp4 ` +
    `(it keeps the sound), or ffmpeg -i "${name}" -c:v libx264 -pix_fmt yuv420p converted.mp4.`
  if (kind === 'empty') return `${name} is empty (0 bytes): there is nothing to play.`
  if (kind === 'unknown') return `${name} is not a video: its contents are not a video format (a renamed file?). ${S.formats.text}`
  if (kind === 'avi') return `${name} cannot be played: browsers do not play AVI files. ${S.formats.text} ${fix}`
  const what = why === 'timeout' ? 'the browser did not manage to start it within 10 s'
    : why === 'no picture' ? 'the browser finds no video it can decode in it'
    : 'this browser does not decode its video, or the file is damaged or incomplete'
  return `${name} cannot be played: ${what}. ${S.formats.text} ${fix}`
}

S.opening = 0  // counts source choices: a slow probe or camera answer never overrides a newer choice

S.startWebcam = async () => {
  const ticket = ++S.opening
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    S.fail('This browser gives no camera access here (it needs https or localhost). Drop a video file instead.')
    return
  }
  let stream
  try {
    stream = await navigator.mediaDevices.getUserMedia(
      {video: {width: {ideal: 640}, height: {ideal: 480}, facingMode: {ideal: S.facing}}, audio: false})
  } catch (e) {
    if (ticket === S.opening) S.fail(S.cameraRefusal(e))  // whatever plays now carries on
    return
  }
  if (ticket !== S.opening) { stream.getTracks().forEach((t) => t.stop()); return }
  S.stopSource()
  S.stream = stream
  video.srcObject = S.stream
  S.newSource('webcam')
  S.showFlip()
  await video.play().catch(() => {})
  S.say('')
  S.setPaused(false)
  S.loop()
  S.hint()
}

// A phone's front and back cameras: the Flip button shows once the camera runs and the
// device has more than one; it starts the other one (facingMode).
S.facing = 'user'
S.showFlip = async () => {
  let cameras = 0
  try { cameras = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'videoinput').length } catch (e) {}
  flip_btn.style.display = cameras > 1 && data.source === 'webcam' ? '' : 'none'
}
flip_btn.addEventListener('click', () => {
  S.facing = S.facing === 'user' ? 'environment' : 'user'
  S.startWebcam()
})

// How to allow the camera again, in the words of the browser in use.
S.allowCamera = () => {
  const ua = navigator.userAgent
  if (/Firefox\//.test(ua)) return 'click the crossed-out camera icon in the address bar and clear the block'
  if (/Edg\//.test(ua)) return 'click the lock icon left of the address bar, then set Camera to Allow'
  if (/Chrom(e|ium)\//.test(ua)) return 'click the icon left of the address bar (site information), then turn Camera on'
  if (/Safari\//.test(ua)) return 'choose Safari › Settings for this website, then set Camera to Allow'
  return "open this site's settings in the browser, then allow the camera"
}
S.cameraRefusal = (e) => {
  const instead = S.looping ? 'The current video carries on.' : 'You can drop a video file on the page instead.'
  if (e.name === 'NotAllowedError' || e.name === 'SecurityError') {
    return `Camera permission was denied. To allow it again: ${S.allowCamera()}, and press W. ${instead}`
  }
  const why = {
    NotFoundError: 'No camera was found.',
    OverconstrainedError: 'No camera was found.',
    NotReadableError: 'The camera is busy in another program.',
  }[e.name] || `The camera could not start (${e.name || e}).`
  return `${why} ${instead}`
}

S.openFile = async (file) => {
  if (!file) return
  const looksLikeVideo = /^video\//.test(file.type) || /\.(mp4|m4v|mov|webm|mkv|ogv)$/i.test(file.name)
  if (!looksLikeVideo) {
    S.fail(`${file.name} is not a video file. ${S.formats.text}`)
    return
  }
  if (file.size > data.max_file_mb * 1048576) {
    const size = (n) => n >= 1073741824 ? `${(n / 1073741824).toFixed(1)} GB` : `${Math.round(n / 1048576)} MB`
    S.fail(`${file.name} is ${size(file.size)}: FOCUSR opens video files up to ${size(data.max_file_mb * 1048576)}. Trim it or pick a shorter clip.`)
    return
  }
  const ticket = ++S.opening
  const url = URL.createObjectURL(file)  // decoded here in the browser; the file never goes to the server
  const [kind, probe] = await Promise.all([S.sniff(file).catch(() => 'unknown'), S.probe(url)])
  if (ticket !== S.opening) { URL.revokeObjectURL(url); return }  // something newer was chosen meanwhile
  if (!probe.ok) {  // the current source never stopped
    URL.revokeObjectURL(url)
    S.fail(S.refusal(file.name, kind, probe.why))
    return
  }
  S.stopSource()
  S.url = url
  video.src = S.url
  video.loop = true
  S.newSource('file', file.name)
  video.play().then(() => { S.say(''); S.setPaused(false); S.loop(); S.hint() }).catch(() => {})
}

// The file on screen fails after it started (damaged further on): say so, and leave nothing of it.
video.addEventListener('error', () => {
  if (!S.fileName || !video.getAttribute('src')) return
  const name = S.fileName
  S.noSource()
  S.fail(`${name} stopped: the browser could not decode it further (the file is damaged). ${S.formats.text}`)
})
video.addEventListener('timeupdate', () => {
  if (S.fileName && video.duration) seek.value = String(Math.round(1000 * video.currentTime / video.duration))
})
seek.addEventListener('input', () => {
  if (video.duration) video.currentTime = video.duration * Number(seek.value) / 1000
})
// The next frame sent after a seek is a cut: it does not follow the last one (the server drops
// what it detected and carries by flow). Paused, it is sent once the browser has the new position
// (seeking is not done when currentTime is set).
S.cut = false
video.addEventListener('seeking', () => { S.cut = true })
video.addEventListener('seeked', () => { if (S.paused) S.send() })

S.setPaused = (paused) => {
  if (paused && data.source === 'none') return  // nothing to pause
  S.paused = paused
  data.paused = paused
  play_btn.textContent = paused ? 'Play' : 'Pause'
  badge.style.display = paused ? '' : 'none'
  if (S.fileName) { if (paused) video.pause(); else video.play().catch(() => {}) }
}

S.loop = () => {
  if (S.looping) return
  S.looping = true
  const useVideoFrames = 'requestVideoFrameCallback' in HTMLVideoElement.prototype
  const tick = (now) => {
    if (!S.looping) return
    const at = typeof now === 'number' ? now : performance.now()
    if (S.frameAt && at > S.frameAt) S.gap = 0.8 * S.gap + 0.2 * Math.min(at - S.frameAt, 500)
    S.frameAt = at
    S.onVideoFrame()
    if (useVideoFrames) video.requestVideoFrameCallback(tick)
    else requestAnimationFrame(tick)
  }
  if (useVideoFrames) video.requestVideoFrameCallback(tick)
  else requestAnimationFrame(tick)
}

S.onVideoFrame = () => {
  if (S.paused || video.readyState < 2) return
  S.counts.captured++
  if (S.encoding) { S.counts.skipped++; return }  // the encoder is one frame behind: this one never goes
  // the reply not due before the next camera frame (a busy server): this one would be replaced
  // before it could go, so it is not encoded at all; the last one before the reply is
  if (!S.slotFree() && performance.now() - S.sentAt < S.rtt - S.gap) { S.counts.skipped++; return }
  S.encode(S.frameAt || performance.now())
}

// one frame in flight; a lost reply frees the slot after 2 s
S.slotFree = () => S.inflight === null || performance.now() - S.sentAt >= 2000

S.send = () => S.encode(performance.now())  // paused: a seek sends the frame it lands on

S.encode = (t) => {
  const vw = video.videoWidth, vh = video.videoHeight
  if (!vw || !vh) return
  const scale = Math.min(1, data.capture_width / vw)
  const w = Math.round(vw * scale), h = Math.round(vh * scale)
  if (S.grab.width !== w || S.grab.height !== h) { S.grab.width = w; S.grab.height = h }
  S.gctx.drawImage(video, 0, 0, w, h)
  const cut = S.cut
  S.cut = false
  S.fw = w
  S.fh = h
  S.encoding = true
  const gen = S.gen
  S.grab.toBlob(async (blob) => {
    if (!blob) { S.encoding = false; return }
    const jpeg = new Uint8Array(await blob.arrayBuffer())
    S.encoding = false
    if (gen !== S.gen) return
    const seq = ++S.seq
    const cuts = cut || Boolean(S.ready && S.ready.cut)  // it replaces a cut not sent: it is the cut
    const head = new TextEncoder().encode(JSON.stringify(cuts ? {seq: seq, t: t, w: w, h: h, cut: true}
                                                              : {seq: seq, t: t, w: w, h: h}))
    const buf = new Uint8Array(4 + head.length + jpeg.length)
    new DataView(buf.buffer).setUint32(0, head.length, true)
    buf.set(head, 4)
    buf.set(jpeg, 4 + head.length)
    if (S.ready) S.counts.skipped++  // replaced by this newer frame before it could go
    S.ready = {seq: seq, buf: buf.buffer, cut: cuts}
    S.flush()
  }, 'image/jpeg', data.jpeg_quality)
}

S.flush = () => {
  if (!S.ready || !S.slotFree()) return
  const f = S.ready
  S.ready = null
  if (S.inflight !== null) S.counts.lost++  // its reply never came: the slot was freed after 2 s
  S.inflight = f.seq
  S.sentAt = performance.now()
  S.sentTimes[f.seq] = S.sentAt  // for the benchmark's breakdown of the round trip
  if (f.seq % 100 === 0) for (const k in S.sentTimes) if (k < f.seq - 100) delete S.sentTimes[k]
  data.frame = f.buf
  S.counts.sent++
}

S.show = async (payload) => {
  if (!payload) return
  const bytes = payload instanceof ArrayBuffer ? new Uint8Array(payload)
    : new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength)
  const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true)
  const head = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + n)))
  if (head.seq === S.inflight || head.seq === null || head.seq === undefined) {
    S.rtt = 0.8 * S.rtt + 0.2 * (performance.now() - S.sentAt)
    S.inflight = null
    S.flush()  // the newest encoded frame goes before this one is drawn
  }
  if (typeof head.seq === 'number' && head.seq <= S.staleUpTo) return  // from a source that has stopped
  const jpeg = bytes.subarray(4 + n)
  const received = performance.now()
  S.last = head
  if (!jpeg.length) return  // the server dropped that frame; the slot is free again
  const bitmap = await createImageBitmap(new Blob([jpeg], {type: 'image/jpeg'}))
  if (typeof head.seq === 'number' && head.seq <= S.staleUpTo) { bitmap.close(); return }  // stopped meanwhile
  if (screen.width !== bitmap.width || screen.height !== bitmap.height) {
    screen.width = bitmap.width
    screen.height = bitmap.height
  }
  S.ctx.drawImage(bitmap, 0, 0)
  bitmap.close()
  S.shownSeq = head.seq
  if (S.diag && S.sentTimes[head.seq] && S.diag.length < 5000) {
    S.diag.push([S.sentTimes[head.seq] - head.t, received - S.sentTimes[head.seq], performance.now() - received])
  }
  delete S.sentTimes[head.seq]
  S.counts.displayed++
  if (S.serverMs && typeof head.server_ms === 'number' && S.serverMs.length < 5000) S.serverMs.push(head.server_ms)
  if (typeof head.t === 'number' && !head.still) {  // a still frame again: not a capture's latency
    S.latency.push(performance.now() - head.t)
    if (S.latency.length > 600) S.latency.shift()
  }
  root.dataset.state = head.state || 'idle'
  root.dataset.box = head.box ? head.box.join(',') : ''
  root.dataset.hover = head.hover ? head.hover.join(',') : ''
  root.dataset.seq = String(head.seq)
  S.cursor()
}

// Where the picture is drawn: the canvas is shown with object-fit: contain, so inside its box
// the picture may have bars left and right (a capped height) or above and below. Pointer
// positions are mapped over the picture, not the element; a point on a bar is off the picture.
S.picture = () => {
  const r = screen.getBoundingClientRect()
  if (!r.width || !r.height || !screen.width || !screen.height) return null
  const s = Math.min(r.width / screen.width, r.height / screen.height)
  return {left: r.left + (r.width - screen.width * s) / 2, top: r.top + (r.height - screen.height * s) / 2, scale: s}
}
S.toSource = (e) => {
  const p = S.picture()
  if (!p) return null
  const x = (e.clientX - p.left) / p.scale, y = (e.clientY - p.top) / p.scale
  return x >= 0 && y >= 0 && x < screen.width && y < screen.height ? [x, y] : null
}
// What a click will do (the click's mode, types.CLICK_MODES), shown by the cursor: Ctrl (Cmd on a
// Mac) held, it keeps the subject as well as those kept ('copy'), or, over a kept one, lets it go
// ('zoom-out': a minus); Shift held, it adds the region under it to the nearest subject's cut-out
// ('cell'); Alt held, it takes one away ('no-drop'); else it picks one ('pointer' over a box).
S.mode = 'lock'
S.at = null  // where the pointer is, in the picture's pixels (null: off it)
const CURSORS = {toggle: 'copy', include: 'cell', exclude: 'no-drop'}
// on a touch screen, with no keys, the toolbar's picker says what a tap does (camera.py TAP_MODES)
S.modeOf = (e) => (e.ctrlKey || e.metaKey) ? 'toggle' : e.shiftKey ? 'include' : e.altKey ? 'exclude'
  : S.touch ? tap_mode.value : 'lock'
S.onKept = () => !!(S.at && S.last && (S.last.subjects || []).some((s) => s.box &&
  S.at[0] >= s.box[0] && S.at[0] <= s.box[2] && S.at[1] >= s.box[1] && S.at[1] <= s.box[3]))
S.cursor = () => {
  screen.style.cursor = S.mode === 'toggle' && S.onKept() ? 'zoom-out'
    : CURSORS[S.mode] || (S.last && S.last.hover ? 'pointer' : 'crosshair')
}
S.modifiers = (e) => {
  const mode = S.modeOf(e)
  if (e.type === 'pointermove') S.at = S.toSource(e)
  if (mode !== S.mode || e.type === 'pointermove') { S.mode = mode; S.cursor() }
}
document.addEventListener('keydown', S.modifiers)
document.addEventListener('keyup', S.modifiers)
screen.addEventListener('pointermove', S.modifiers)
S.shownSeq = null  // the frame on screen: a click refers to what the user saw
S.hoverAt = (e) => {
  const now = performance.now()
  if (now - S.lastHover < 50) return  // 20 updates a second is plenty for a hover box
  S.lastHover = now
  const p = S.toSource(e)
  if (p) data.hover = p
  else if (data.hover.length) data.hover = []
}
screen.addEventListener('pointermove', S.hoverAt)
screen.addEventListener('pointerleave', () => { data.hover = []; S.at = null })
// a finger lifts: nothing is hovered any more (the box would otherwise stay stuck)
screen.addEventListener('pointerup', (e) => { if (e.pointerType !== 'mouse') data.hover = [] })
screen.addEventListener('click', (e) => {
  const p = S.toSource(e)
  if (!p) return
  root.focus()
  data.click = {x: p[0], y: p[1], n: ++S.clicks, seq: S.shownSeq, mode: S.modeOf(e)}
  // it goes alone: the server answers it at once on the last frame it has (the one on screen, or
  // the one on its way), playing or paused; no frame has to be captured and encoded for it
  if (msg.className.includes('hint')) S.say('')
})

S.onKey = (e) => {
  const tag = (e.target && e.target.tagName) || ''
  if (/^(INPUT|TEXTAREA|SELECT)$/.test(tag) && e.target !== file_input) return
  if (e.key === '?') S.showKeys(keys.style.display === 'none')
  else if (e.key === 'Escape' && keys.style.display !== 'none') S.showKeys(false)
  else if (e.key === 'Escape') data.release = data.release + 1  // paused: shown on the still frame
  else if (e.key === ' ') { e.preventDefault(); S.setPaused(!S.paused) }
  else if (e.key === 'w' || e.key === 'W') S.startWebcam()
  else if (e.key === 'f' || e.key === 'F') {
    if (document.fullscreenElement) document.exitFullscreen()
    else if (root.requestFullscreen) root.requestFullscreen().catch(() => {})
  }
  else return
  data.last_key = `${e.key}|${Date.now()}`
}
document.addEventListener('keydown', S.onKey)

S.onDragOver = (e) => { e.preventDefault(); root.classList.add('dragging') }
S.onDragLeave = () => root.classList.remove('dragging')
S.onDrop = (e) => {
  e.preventDefault()
  root.classList.remove('dragging')
  const f = e.dataTransfer && e.dataTransfer.files && e.dataTransfer.files[0]
  if (f) S.openFile(f)
}
window.addEventListener('dragover', S.onDragOver)
window.addEventListener('dragleave', S.onDragLeave)
window.addEventListener('drop', S.onDrop)

webcam_btn.addEventListener('click', () => S.startWebcam())
file_input.addEventListener('change', () => { S.openFile(file_input.files[0]); file_input.value = '' })
play_btn.addEventListener('click', () => S.setPaused(!S.paused))

S.report = setInterval(() => {
  const now = performance.now()
  const dt = (now - S.prev.at) / 1000
  const rate = (k) => (S.counts[k] - S.prev[k]) / dt
  const sorted = S.latency.slice().sort((a, b) => a - b)
  const q = (p) => sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : null
  data.stats = {
    captured_fps: rate('captured'), sent_fps: rate('sent'), displayed_fps: rate('displayed'),
    skipped: S.counts.skipped, displayed: S.counts.displayed, latency_median_ms: q(0.5), latency_p95_ms: q(0.95),
  }
  counters.textContent = `${rate('displayed').toFixed(1)} fps displayed · skipped ${S.counts.skipped}`
  S.prev = {captured: S.counts.captured, sent: S.counts.sent, displayed: S.counts.displayed, at: now}
}, 500)

S.teardown = () => {
  S.stopSource()
  clearInterval(S.report)
  clearInterval(S.namer)
  document.removeEventListener('keydown', S.onKey)
  document.removeEventListener('keydown', S.modifiers)
  document.removeEventListener('keyup', S.modifiers)
  window.removeEventListener('dragover', S.onDragOver)
  window.removeEventListener('dragleave', S.onDragLeave)
  window.removeEventListener('drop', S.onDrop)
}

// First use: what to do, in the words of this device (a phone has no hover).
S.touch = window.matchMedia && window.matchMedia('(hover: none)').matches
if (S.touch) tap_mode.style.display = ''
tap_mode.addEventListener('change', () => { S.mode = tap_mode.value; S.cursor(); root.focus() })
S.hinted = false
S.hint = () => {  // once a source plays, until the first click or a few seconds
  if (S.hinted || S.clicks) return
  S.hinted = true
  S.say(S.touch ? 'Tap a subject to focus it.' : 'Hover to see what can be focused (amber box), then click it.', 'hint')
  clearTimeout(S.hintTimer)
  S.hintTimer = setTimeout(() => { if (msg.className.includes('hint')) S.say('') }, 6000)
}

// The keys, on "?" or the ? button; Esc or "?" closes them.
S.showKeys = (show) => {
  keys.style.display = show ? '' : 'none'
  keys_btn.setAttribute('aria-expanded', String(show))
}
keys_btn.addEventListener('click', () => S.showKeys(keys.style.display === 'none'))
// the file button is a label (it opens the picker on click); from the keyboard, Enter or Space does
open_btn.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); e.stopPropagation(); file_input.click() }
})

S.showControls()
S.say(S.touch ? 'Choose Webcam or open a video, then tap a subject to focus it.'
  : 'Choose Webcam (W) or drop a video file on the page, then hover and click a subject to focus it.')
if (data.autostart === 'webcam') S.startWebcam()
