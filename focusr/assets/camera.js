// FOCUSR camera component: the ReactiveHTML "render" script (runs once per view).
// Named nodes from the template: root, screen, video, msg, webcam_btn, file_input, play_btn, seek, counters.
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
S.ready = null  // {seq, buf}: an encoded frame waiting for the slot
S.encoding = false
S.rtt = 0  // smoothed send-to-reply time
S.gen = 0  // which source the frames come from
S.sentTimes = {}
root.focusr = S  // for tests and debugging: counters, last reply
S.data = data

S.say = (text, kind) => {
  msg.textContent = text || ''
  msg.className = 'focusr-msg' + (kind ? ' ' + kind : '')
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

S.stopSource = () => {
  S.gen++  // a frame still being encoded from this source is dropped
  S.looping = false
  if (S.stream) { S.stream.getTracks().forEach((t) => t.stop()); S.stream = null }
  if (S.url) { URL.revokeObjectURL(S.url); S.url = null }
  video.pause()
  video.removeAttribute('src')
  video.srcObject = null
  S.inflight = null
  S.ready = null
}

S.startWebcam = async () => {
  S.stopSource()
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    S.fail('This browser gives no camera access here (it needs https or localhost). Drop a video file instead.')
    return
  }
  try {
    S.stream = await navigator.mediaDevices.getUserMedia({video: {width: {ideal: 640}, height: {ideal: 480}}, audio: false})
  } catch (e) {
    const why = {
      NotAllowedError: 'Camera permission was denied.',
      SecurityError: 'Camera permission was denied.',
      NotFoundError: 'No camera was found.',
      OverconstrainedError: 'No camera was found.',
      NotReadableError: 'The camera is busy in another program.',
    }[e.name] || `The camera could not start (${e.name || e}).`
    S.fail(why + ' You can drop a video file on the page instead.')
    return
  }
  video.srcObject = S.stream
  data.source = 'webcam'
  S.fileName = null
  seek.style.display = 'none'
  await video.play().catch(() => {})
  S.say('')
  S.setPaused(false)
  S.loop()
}

S.openFile = (file) => {
  if (!file) return
  const looksLikeVideo = /^video\//.test(file.type) || /\.(mp4|m4v|mov|webm|mkv|ogv)$/i.test(file.name)
  if (!looksLikeVideo) {
    S.fail(`${file.name} is not a video file. Use MP4, MOV or WebM.`)
    return
  }
  if (file.size > data.max_file_mb * 1048576) {
    const size = (n) => n >= 1073741824 ? `${(n / 1073741824).toFixed(1)} GB` : `${Math.round(n / 1048576)} MB`
    S.fail(`${file.name} is ${size(file.size)}: FOCUSR opens video files up to ${size(data.max_file_mb * 1048576)}. Trim it or pick a shorter clip.`)
    return
  }
  S.stopSource()
  S.fileName = file.name
  S.url = URL.createObjectURL(file)  // decoded here in the browser; the file never goes to the server
  video.src = S.url
  video.loop = true
  data.source = 'file'
  seek.style.display = ''
  video.play().then(() => { S.say(''); S.setPaused(false); S.loop() }).catch(() => {})
}

video.addEventListener('error', () => {
  if (S.fileName) S.fail(`${S.fileName} cannot be played: unsupported codec or damaged file.`)
  S.stopSource()
  data.source = 'none'
})
video.addEventListener('timeupdate', () => {
  if (S.fileName && video.duration) seek.value = String(Math.round(1000 * video.currentTime / video.duration))
})
seek.addEventListener('input', () => {
  if (video.duration) video.currentTime = video.duration * Number(seek.value) / 1000
  if (S.paused) S.send()  // show the new position while paused
})

S.setPaused = (paused) => {
  S.paused = paused
  data.paused = paused
  play_btn.textContent = paused ? 'Play' : 'Pause'
  if (S.fileName) { if (paused) video.pause(); else video.play().catch(() => {}) }
}

S.loop = () => {
  if (S.looping) return
  S.looping = true
  const useVideoFrames = 'requestVideoFrameCallback' in HTMLVideoElement.prototype
  const tick = (now) => {
    if (!S.looping) return
    S.frameAt = typeof now === 'number' ? now : performance.now()
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
  // with a frame ready and the reply not due for a while (a busy server), keep the CPU
  if (S.ready && !S.slotFree() && performance.now() - S.sentAt < S.rtt - 70) { S.counts.skipped++; return }
  S.encode(S.frameAt || performance.now())
}

// one frame in flight; a lost reply frees the slot after 2 s
S.slotFree = () => S.inflight === null || performance.now() - S.sentAt >= 2000

S.send = () => S.encode(performance.now())  // paused: a seek, click or Escape still sends the frame

S.encode = (t) => {
  const vw = video.videoWidth, vh = video.videoHeight
  if (!vw || !vh) return
  const scale = Math.min(1, data.capture_width / vw)
  const w = Math.round(vw * scale), h = Math.round(vh * scale)
  if (S.grab.width !== w || S.grab.height !== h) { S.grab.width = w; S.grab.height = h }
  S.gctx.drawImage(video, 0, 0, w, h)
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
    const head = new TextEncoder().encode(JSON.stringify({seq: seq, t: t, w: w, h: h}))
    const buf = new Uint8Array(4 + head.length + jpeg.length)
    new DataView(buf.buffer).setUint32(0, head.length, true)
    buf.set(head, 4)
    buf.set(jpeg, 4 + head.length)
    if (S.ready) S.counts.skipped++  // replaced by this newer frame before it could go
    S.ready = {seq: seq, buf: buf.buffer}
    S.flush()
  }, 'image/jpeg', data.jpeg_quality)
}

// A click goes with the next frame at once, even while one is in flight: the server takes it
// as soon as the current one is done, instead of a round trip later (the lock shows sooner).
S.urgent = false
S.flush = () => {
  if (!S.ready || !(S.slotFree() || S.urgent)) return
  const f = S.ready
  S.ready = null
  if (S.inflight !== null && !S.urgent) S.counts.lost++  // its reply never came: the slot was freed after 2 s
  S.urgent = false
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
  const jpeg = bytes.subarray(4 + n)
  const received = performance.now()
  S.last = head
  if (!jpeg.length) return  // the server dropped that frame; the slot is free again
  const bitmap = await createImageBitmap(new Blob([jpeg], {type: 'image/jpeg'}))
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
  if (typeof head.t === 'number') {
    S.latency.push(performance.now() - head.t)
    if (S.latency.length > 600) S.latency.shift()
  }
  root.dataset.state = head.state || 'idle'
  root.dataset.box = head.box ? head.box.join(',') : ''
  root.dataset.hover = head.hover ? head.hover.join(',') : ''
  root.dataset.seq = String(head.seq)
  screen.style.cursor = head.hover ? 'pointer' : 'crosshair'
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
screen.addEventListener('pointerleave', () => { data.hover = [] })
// a finger lifts: nothing is hovered any more (the box would otherwise stay stuck)
screen.addEventListener('pointerup', (e) => { if (e.pointerType !== 'mouse') data.hover = [] })
screen.addEventListener('click', (e) => {
  const p = S.toSource(e)
  if (!p) return
  root.focus()
  data.click = {x: p[0], y: p[1], n: ++S.clicks, seq: S.shownSeq}
  S.urgent = true
  if (S.ready) S.flush()
  else if (!S.encoding) S.send()  // paused, or between camera frames: this frame takes the click
})

S.onKey = (e) => {
  const tag = (e.target && e.target.tagName) || ''
  if (/^(INPUT|TEXTAREA|SELECT)$/.test(tag) && e.target !== file_input) return
  if (e.key === 'Escape') { data.release = data.release + 1; if (S.paused) S.send() }
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
  counters.textContent = `${rate('displayed').toFixed(1)} fps · skipped ${S.counts.skipped}`
  S.prev = {captured: S.counts.captured, sent: S.counts.sent, displayed: S.counts.displayed, at: now}
}, 500)

S.teardown = () => {
  S.stopSource()
  clearInterval(S.report)
  document.removeEventListener('keydown', S.onKey)
  window.removeEventListener('dragover', S.onDragOver)
  window.removeEventListener('dragleave', S.onDragLeave)
  window.removeEventListener('drop', S.onDrop)
}

S.say('Press W or choose Webcam, or drop a video file anywhere on the page.')
if (data.autostart === 'webcam') S.startWebcam()
