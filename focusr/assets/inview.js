// InView (focusr/inview.py): tell the server whether this pane is on screen in a shown tab.
state.on = true
state.say = () => {
  const now = Boolean(state.on) && document.visibilityState === 'visible'
  if (data.in_view !== now) data.in_view = now
}
state.seen = new IntersectionObserver((entries) => {
  state.on = entries[entries.length - 1].isIntersecting
  state.say()
}, {threshold: 0})
state.seen.observe(pane)
document.addEventListener('visibilitychange', state.say)
state.teardown = () => {
  state.seen.disconnect()
  document.removeEventListener('visibilitychange', state.say)
}
