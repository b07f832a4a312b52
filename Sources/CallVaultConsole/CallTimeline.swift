import CallVaultModel
import Foundation

/// The picture of a call's consent: one lane per track with the spans that were recorded, paused
/// spans across both, a marker per consent event, and a "key" mark on the caller's lane where a key
/// press (DTMF, signalled or heard in the audio) decided one, on a time axis from the call's start to
/// its end. Which key is never shown (the catalog does not keep it: keys can be sensitive), and keys
/// that decided nothing are not in the catalog at all.
/// Drawn as SVG with attributes only (no inline style, as the CSP demands); the table beside it says
/// the same in text for screen readers and for copying into a reply.
struct CallTimeline {
    let call: CallRecord
    let events: [ConsentEventRecord]
    let paused: [PausedSpanRecord]
    let recordings: [RecordingRecord]

    /// Milliseconds from the call's start to an event (the frame timeline when it was recorded).
    func offset(_ event: ConsentEventRecord) -> Int64 {
        event.timelineMs ?? Int64(event.at.timeIntervalSince(call.startedAt) * 1000)
    }

    func recordingSpan(_ recording: RecordingRecord) -> (Int64, Int64) {
        let start = max(0, Int64(recording.createdAt.timeIntervalSince(call.startedAt) * 1000))
        return (start, start + recording.durationMs)
    }

    /// The axis length: the call's length, or the last thing on it while it is live.
    var length: Int64 {
        var end = call.endedAt.map { Int64($0.timeIntervalSince(call.startedAt) * 1000) } ?? 0
        for event in events { end = max(end, offset(event)) }
        for span in paused { end = max(end, span.endMs ?? span.startMs) }
        for recording in recordings { end = max(end, recordingSpan(recording).1) }
        return max(end, 1000)
    }

    func svg() -> String {
        let width = 900.0, left = 70.0, right = 20.0
        let scale = (width - left - right) / Double(length)
        func x(_ ms: Int64) -> String { String(format: "%.1f", left + Double(max(0, ms)) * scale) }
        func w(_ from: Int64, _ to: Int64) -> String { String(format: "%.1f", max(1, Double(to - from) * scale)) }
        var svg = """
            <svg class="timeline" viewBox="0 0 \(Int(width)) 150" role="img" aria-labelledby="tl-title tl-desc" xmlns="http://www.w3.org/2000/svg">
            <title id="tl-title">Consent timeline</title>
            <desc id="tl-desc">Recorded spans per track, paused spans, consent events and the keys that decided them from the call's start (0 s) to \(ConsoleFormat.duration(length)); the table below lists the same.</desc>
            <text x="4" y="48" class="lane">caller</text><text x="4" y="88" class="lane">bot</text>
            <line x1="\(x(0))" y1="110" x2="\(x(length))" y2="110" class="axis"/>
            <text x="\(x(0))" y="126" class="tick">0:00</text>
            <text x="\(x(length))" y="126" class="tick" text-anchor="end">\(ConsoleFormat.duration(length))</text>
            """
        for span in paused {
            let end = span.endMs ?? length
            svg += "<rect x=\"\(x(span.startMs))\" y=\"24\" width=\"\(w(span.startMs, end))\" height=\"76\" class=\"paused\"><title>paused \(ConsoleFormat.duration(span.startMs))–\(span.endMs.map(ConsoleFormat.duration) ?? "end")</title></rect>"
        }
        for recording in recordings {
            let (start, end) = recordingSpan(recording)
            let y = recording.track == .caller ? 34 : 74
            svg += "<rect x=\"\(x(start))\" y=\"\(y)\" width=\"\(w(start, end))\" height=\"18\" class=\"recorded \(recording.state.rawValue)\"><title>\(recording.track.rawValue) recorded \(ConsoleFormat.duration(start))–\(ConsoleFormat.duration(end)) (\(recording.state.rawValue))</title></rect>"
        }
        for event in events {
            let at = offset(event)
            svg += "<g class=\"event \(event.kind.rawValue)\"><line x1=\"\(x(at))\" y1=\"16\" x2=\"\(x(at))\" y2=\"104\"/><circle cx=\"\(x(at))\" cy=\"14\" r=\"5\"/><title>\(event.kind.rawValue) by \(event.method.rawValue) at \(ConsoleFormat.duration(at))</title></g>"
        }
        for event in events where event.method == .dtmf {
            let at = offset(event)
            svg += "<g class=\"key\"><rect x=\"\(String(format: "%.1f", left + Double(max(0, at)) * scale - 5))\" y=\"55\" width=\"10\" height=\"10\" rx=\"2\"/><title>key pressed at \(ConsoleFormat.duration(at)): \(event.kind.rawValue)</title></g>"
        }
        svg += "<text x=\"\(x(0))\" y=\"144\" class=\"legend\">■ recorded  ▒ paused  ● consent event  ▪ key pressed</text></svg>"
        return svg
    }

    func table() -> String {
        var rows: [(Int64, String, String)] = [(0, "call started", ConsoleFormat.time(call.startedAt))]
        for event in events {
            let how = event.method == .dtmf ? "by a key (dtmf)" : "by \(event.method.rawValue)"
            rows.append((offset(event), "consent: \(event.kind.rawValue)", how))
        }
        for span in paused {
            rows.append((span.startMs, "paused", span.endMs.map { "until \(ConsoleFormat.duration($0))" } ?? "not resumed"))
        }
        for recording in recordings {
            let (start, end) = recordingSpan(recording)
            rows.append((start, "\(recording.track.rawValue) recording started", recording.state.rawValue))
            rows.append((end, "\(recording.track.rawValue) recording ended", "\(ConsoleFormat.duration(recording.durationMs)) long"))
        }
        if let ended = call.endedAt {
            rows.append((Int64(ended.timeIntervalSince(call.startedAt) * 1000), "call ended", ConsoleFormat.time(ended)))
        }
        var html = "<table class=\"events\"><caption>Timeline events</caption><thead><tr><th scope=\"col\">At</th><th scope=\"col\">What</th><th scope=\"col\">Detail</th></tr></thead><tbody>"
        for (at, what, detail) in rows.sorted(by: { $0.0 < $1.0 }) {
            html += "<tr><td>\(ConsoleFormat.duration(at))</td><td>\(HTML.escape(what))</td><td>\(HTML.escape(detail))</td></tr>"
        }
        return html + "</tbody></table>"
    }
}
