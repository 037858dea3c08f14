// Accessible names for the sidebar's widgets. Bokeh draws each in its own shadow root: a
// checkbox's <input> beside a <div> with its text, a slider's handles (role=slider) apart from
// its title, so a screen reader hears "checkbox" and "slider" with no name. Each gets the name
// its label shows (a slider's title without its value). Widgets are drawn after this runs and
// redrawn on changes: it looks again every few seconds (a walk of the page, well under 1 ms).
S.nameWidgets = () => {
  const walk = (node) => {
    for (const el of node.querySelectorAll('*')) {
      const root = el.shadowRoot
      if (!root) continue
      const box = root.querySelector('input[type=checkbox]')
      const text = root.querySelector('.bk-label')
      if (box && text && !box.getAttribute('aria-label')) box.setAttribute('aria-label', text.textContent.trim())
      const title = root.querySelector('.bk-slider-title')
      if (title) {
        const name = title.textContent.split(':')[0].trim()
        for (const handle of root.querySelectorAll('[role=slider]')) {
          if (handle.getAttribute('aria-label') !== name) handle.setAttribute('aria-label', name)
        }
      }
      walk(root)
    }
  }
  walk(document)
}
S.nameWidgets()
S.namer = setInterval(S.nameWidgets, 3000)
