// Follow the system's light or dark preference when the address does not choose a theme
// (?theme=default is light, ?theme=dark dark: the header's link sets one, and it wins).
// It runs in the page's head, before anything is drawn: a light system never sees the dark page.
(() => {
  const url = new URL(window.location.href)
  if (url.searchParams.has('theme') || !window.matchMedia) return
  if (!window.matchMedia('(prefers-color-scheme: light)').matches) return
  url.searchParams.set('theme', 'default')
  window.location.replace(url.toString())
})()
