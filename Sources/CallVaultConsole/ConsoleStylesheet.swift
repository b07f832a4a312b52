/// The console's one stylesheet, served from `/static/console.css` (the CSP allows no inline style).
/// Colours pass WCAG AA contrast on white; focus is always visible for keyboard use.
enum ConsoleStylesheet {
    static let css = """
        :root { font-family: system-ui, sans-serif; color: #1a1a1a; background: #fff; line-height: 1.45; }
        body { margin: 0; }
        main { padding: 1rem 1.5rem; max-width: 72rem; }
        header { display: flex; justify-content: space-between; align-items: center; padding: .5rem 1.5rem; background: #123c69; color: #fff; }
        header a { color: #fff; margin-right: 1.25rem; font-weight: 600; }
        header .who { margin-right: .75rem; }
        a { color: #0b5394; }
        a:focus, button:focus, input:focus, select:focus, audio:focus { outline: 3px solid #f1a208; outline-offset: 2px; }
        .skip { position: absolute; left: -999px; }
        .skip:focus { left: 1rem; top: .5rem; background: #fff; color: #000; padding: .25rem .5rem; z-index: 1; }
        table { border-collapse: collapse; width: 100%; margin: 1rem 0; }
        caption { text-align: left; font-weight: 600; padding: .25rem 0; }
        th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid #c8c8c8; vertical-align: top; }
        code { font-size: .85em; word-break: break-all; }
        form.filters, form.play, form.login { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: flex-end; margin: 1rem 0; }
        form.login { flex-direction: column; align-items: flex-start; max-width: 22rem; }
        form.play, form.download { flex-direction: column; align-items: flex-start; max-width: 36rem; }
        form.play input, form.download input { width: 100%; }
        form.download { display: flex; gap: .5rem; margin: 1rem 0; }
        label { font-weight: 600; }
        input, select, button { font: inherit; padding: .3rem .5rem; }
        button { background: #123c69; color: #fff; border: 0; border-radius: 4px; padding: .4rem .9rem; cursor: pointer; }
        header button { background: #fff; color: #123c69; }
        .error { color: #a4161a; font-weight: 600; }
        .warning { color: #7a4a00; }
        .ok { color: #1b5e20; font-weight: 600; }
        .live { background: #a4161a; color: #fff; border-radius: 3px; padding: 0 .3rem; font-size: .8em; }
        .consent { border-radius: 3px; padding: 0 .35rem; background: #e8e8e8; }
        .consent-granted, .consent-not-required { background: #d7f0db; }
        .consent-denied, .consent-revoked { background: #f8d7da; }
        dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
        dl.facts dt { font-weight: 600; }
        dl.facts dd { margin: 0; }
        svg.timeline { width: 100%; max-width: 900px; height: auto; border: 1px solid #c8c8c8; background: #fafafa; }
        svg .lane, svg .tick, svg .legend { font-size: 12px; fill: #1a1a1a; }
        svg .axis { stroke: #555; }
        svg .recorded { fill: #d7f0db; stroke: #2e7d32; }
        svg .recorded.interrupted { fill: #fde7c4; stroke: #b26a00; }
        svg .recorded.shredded { fill: #eeeeee; stroke: #757575; }
        svg .level { fill: #1b5e20; }
        svg .segment { stroke: #1a1a1a; stroke-width: 1.5; }
        svg .edge { stroke: #1a1a1a; stroke-width: 2; }
        svg .lane-note { font-size: 11px; fill: #1a1a1a; }
        svg .paused { fill: #fbe3a1; }
        svg .event line { stroke: #123c69; stroke-width: 2; }
        svg .event circle, svg .event path { fill: #123c69; }
        svg .redacted { fill: #f4d4d4; fill-opacity: 0.85; stroke: #a4161a; stroke-width: 1; stroke-dasharray: 3 2; }
        svg .event.deny circle, svg .event.revoke circle { fill: #a4161a; }
        ol.transcript { list-style: none; padding: 0; }
        ol.transcript li { padding: .3rem 0; border-bottom: 1px solid #eee; }
        ol.transcript .at { font-variant-numeric: tabular-nums; color: #555; margin-right: .5rem; }
        ol.transcript .speaker { font-weight: 700; text-transform: capitalize; }
        ol.transcript .speaker-bot .speaker { color: #0b5394; }
        ol.transcript .speaker-caller .speaker { color: #7b1fa2; }
        ol.transcript li.playing { background: #fff4cc; box-shadow: inset 4px 0 0 #f1a208; }
        ol.transcript button.seek { background: none; color: #0b5394; padding: 0 .25rem; text-decoration: underline; font-variant-numeric: tabular-nums; }
        svg .key rect { fill: #7b1fa2; stroke: #fff; stroke-width: 1; }
        form.inline { display: inline; margin: 0; }
        form.retention { display: flex; flex-wrap: wrap; gap: .25rem .5rem; align-items: center; margin: .25rem 0; }
        form.settings { display: flex; flex-direction: column; align-items: flex-start; gap: .35rem; max-width: 36rem; margin: 1rem 0; }
        fieldset { border: 1px solid #c8c8c8; padding: .35rem .75rem; }
        fieldset label { font-weight: 400; margin-right: .75rem; }
        .job-state { border-radius: 3px; padding: 0 .35rem; background: #e8e8e8; }
        .job-dead, .job-failed { background: #f8d7da; }
        .job-done { background: #d7f0db; }
        audio { width: 100%; max-width: 36rem; margin: .5rem 0; }
        """
}
