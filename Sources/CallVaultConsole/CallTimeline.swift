import CallVaultArchive
import CallVaultModel
import Foundation

/// The picture of a call: one lane per track with the spans that were recorded (where each started and
/// ended), their audio level per bucket (``TrackLevels``) and ticks where their sealed segments start,
/// paused spans across both, the stretches audio redaction silenced, a marker per consent event (the
/// disclosure a triangle), and a "key" mark on the caller's lane where a
/// key press (DTMF, signalled or heard in the audio) decided one, on a time axis from the call's start to
/// its end. Which key is never shown (the catalog does not keep it: keys can be sensitive), and keys
/// that decided nothing are not in the catalog at all.
/// Drawn as SVG with attributes only (no inline style, as the CSP demands); the table beside it says
/// the same in text for screen readers and for copying into a reply, and ``levelsDetails()`` lists the
/// levels and segments.
struct CallTimeline {
    let call: CallRecord
    let events: [ConsentEventRecord]
    let paused: [PausedSpanRecord]
    let recordings: [RecordingRecord]

    /// Milliseconds from the call's start to an event (the frame timeline when it was recorded).
    func offset(_ event: ConsentEventRecord) -> Int64 {
        event.timelineMs ?? Int64(event.at.timeIntervalSince(call.startedAt) * 1000)
    }

    /// Where a recording starts and ends on the axis: from its measured segments (their first frames'
    /// times, the timeline the levels and events are on) when it was measured, else from the catalog.
    func recordingSpan(_ recording: RecordingRecord) -> (Int64, Int64) {
        if case .measured(let measured)? = levels[recording.id], let first = measured.segments.first,
            let last = measured.segments.last
        {
            return (first.startMs, last.startMs + last.durationMs)
        }
        return catalogSpan(recording)
    }

    /// A recording's span from its catalog row: created at, for its duration.
    func catalogSpan(_ recording: RecordingRecord) -> (Int64, Int64) {
        let start = max(0, Int64(recording.createdAt.timeIntervalSince(call.startedAt) * 1000))
        return (start, start + recording.durationMs)
    }

    /// The axis length: the call's length, or the last thing on it while it is live.
    var length: Int64 {
        var end = call.endedAt.map { Int64($0.timeIntervalSince(call.startedAt) * 1000) } ?? 0
        for event in events { end = max(end, offset(event)) }
        for span in paused { end = max(end, span.endMs ?? span.startMs) }
        for recording in recordings { end = max(end, catalogSpan(recording).1) }
        return max(end, 1000)
    }

    /// Each recording's levels and segments (by recording id), or why they are not shown; empty when
    /// none were asked for.
    var levels: [String: TrackLevels] = [:]

    /// The most buckets a track is drawn with: a long call gets longer buckets, not more of them.
    static let maximumBuckets = 600
    /// A track with more segments than this has only the ticks of segments that start after a gap.
    static let maximumSegmentTicks = 120
    /// Levels below this are drawn as no band (the picture's floor); the table gives every value.
    static let floorDBFS = -60.0

    /// Milliseconds per level bucket for a call `length` ms long: 100 ms, or whole tenths of a second
    /// long enough that the call needs at most ``maximumBuckets``.
    static func bucketMs(forLength length: Int64) -> Int64 {
        let tenths = (max(1, length) + Int64(maximumBuckets) * 100 - 1) / (Int64(maximumBuckets) * 100)
        return max(1, tenths) * 100
    }

    var bucketMs: Int64 { Self.bucketMs(forLength: length) }
    var bucketCount: Int { Int((length + bucketMs - 1) / bucketMs) }

    /// The segments whose ticks are drawn: all of them, or for a track with more than
    /// ``maximumSegmentTicks`` the first and those that start after a gap in the audio.
    static func tickedSegments(_ segments: [RecordingLevels.Segment]) -> [RecordingLevels.Segment] {
        guard segments.count > maximumSegmentTicks else { return segments }
        var ticked: [RecordingLevels.Segment] = []
        var previousEnd: Int64?
        for segment in segments {
            if previousEnd.map({ segment.startMs > $0 + 20 }) ?? true { ticked.append(segment) }
            previousEnd = segment.startMs + segment.durationMs
        }
        return ticked
    }

    /// A lane's top and height (caller above, bot below).
    private static func lane(_ track: RecordingTrack) -> (top: Double, height: Double) {
        track == .caller ? (26, 44) : (86, 44)
    }

    func svg() -> String {
        let width = 900.0, left = 70.0, right = 20.0
        let scale = (width - left - right) / Double(length)
        func pos(_ ms: Int64) -> Double { left + Double(max(0, min(ms, length))) * scale }
        func x(_ ms: Int64) -> String { String(format: "%.1f", pos(ms)) }
        func w(_ from: Int64, _ to: Int64) -> String { String(format: "%.1f", max(1, Double(to - from) * scale)) }
        func f(_ value: Double) -> String { String(format: "%.1f", value) }
        var svg = """
            <svg class="timeline" viewBox="0 0 \(Int(width)) 196" role="img" aria-labelledby="tl-title tl-desc" xmlns="http://www.w3.org/2000/svg">
            <title id="tl-title">Call timeline</title>
            <desc id="tl-desc">Recorded spans per track with their audio level (RMS per \(ConsoleFormat.seconds(bucketMs)) bucket) and segment starts, where each recording started and ended, paused and redacted spans, the disclosure, consent events and the keys that decided them, from the call's start (0 s) to \(ConsoleFormat.duration(length)); the tables below list the same.</desc>
            <text x="4" y="52" class="lane">caller</text><text x="4" y="112" class="lane">bot</text>
            <line x1="\(x(0))" y1="146" x2="\(x(length))" y2="146" class="axis"/>
            <text x="\(x(0))" y="162" class="tick">0:00</text>
            <text x="\(x(length))" y="162" class="tick" text-anchor="end">\(ConsoleFormat.duration(length))</text>
            """
        for span in paused {
            let end = span.endMs ?? length
            svg += "<rect x=\"\(x(span.startMs))\" y=\"22\" width=\"\(w(span.startMs, end))\" height=\"116\" class=\"paused\"><title>paused \(ConsoleFormat.duration(span.startMs))–\(span.endMs.map(ConsoleFormat.duration) ?? "end")</title></rect>"
        }
        for recording in recordings {
            let (start, end) = recordingSpan(recording)
            let (top, height) = Self.lane(recording.track)
            let track = recording.track.rawValue
            svg += "<rect x=\"\(x(start))\" y=\"\(f(top))\" width=\"\(w(start, end))\" height=\"\(f(height))\" class=\"recorded \(recording.state.rawValue)\"><title>\(track) recorded \(ConsoleFormat.duration(start))–\(ConsoleFormat.duration(end)) (\(recording.state.rawValue))</title></rect>"
            switch levels[recording.id] {
            case .measured(let measured)?:
                svg += "<g class=\"levels\" data-track=\"\(track)\" data-bucket-ms=\"\(measured.bucketMs)\">"
                for (index, bucket) in measured.buckets.enumerated() where bucket.hasAudio {
                    let from = Int64(index) * measured.bucketMs
                    let fraction = min(1, max(0, (bucket.rmsDBFS - Self.floorDBFS) / -Self.floorDBFS))
                    let band = height * fraction
                    svg += "<rect class=\"level\" x=\"\(x(from))\" y=\"\(f(top + (height - band) / 2))\" width=\"\(f(max(0.5, Double(measured.bucketMs) * scale)))\" height=\"\(f(band))\" data-ms=\"\(from)\" data-dbfs=\"\(f(bucket.rmsDBFS))\"/>"
                }
                svg += "</g><g class=\"segments\" data-track=\"\(track)\" data-count=\"\(measured.segments.count)\">"
                for segment in Self.tickedSegments(measured.segments) {
                    svg += "<line class=\"segment\" x1=\"\(x(segment.startMs))\" y1=\"\(f(top + height))\" x2=\"\(x(segment.startMs))\" y2=\"\(f(top + height + 7))\" data-ms=\"\(segment.startMs)\"><title>\(track) segment \(segment.index) starts at \(ConsoleFormat.duration(segment.startMs))</title></line>"
                }
                svg += "</g>"
            case let other?:
                svg += "<text x=\"\(f(pos(start) + 4))\" y=\"\(f(top + height / 2 + 4))\" class=\"lane-note\">\(HTML.escape(other.why ?? ""))</text>"
            case nil:
                break
            }
            svg += "<line class=\"edge\" x1=\"\(x(start))\" y1=\"\(f(top - 3))\" x2=\"\(x(start))\" y2=\"\(f(top + height + 3))\"><title>\(track) recording started at \(ConsoleFormat.duration(start))</title></line>"
            svg += "<line class=\"edge\" x1=\"\(x(end))\" y1=\"\(f(top - 3))\" x2=\"\(x(end))\" y2=\"\(f(top + height + 3))\"><title>\(track) recording ended at \(ConsoleFormat.duration(end))</title></line>"
            // Stretches silenced by audio redaction (card numbers, contact data, the bot's sensitive window).
            for span in recording.redaction?.spans ?? [] {
                svg += "<rect class=\"redacted \(recording.redaction?.verification.rawValue ?? "")\" x=\"\(x(span.startMs))\" y=\"\(f(top))\" width=\"\(w(span.startMs, span.endMs))\" height=\"\(f(height))\" data-ms=\"\(span.startMs)\"><title>\(track) redacted \(ConsoleFormat.duration(span.startMs))–\(ConsoleFormat.duration(span.endMs)): \(HTML.escape(span.kinds.joined(separator: ", ")))</title></rect>"
            }
        }
        for event in events {
            let at = offset(event)
            // The disclosure is a triangle, consent decisions a circle: the disclosure must come first.
            let mark =
                event.kind == .disclosure
                ? "<path d=\"M\(f(pos(at) - 6)) 8 L\(f(pos(at) + 6)) 8 L\(f(pos(at))) 19 Z\"/>"
                : "<circle cx=\"\(x(at))\" cy=\"14\" r=\"5\"/>"
            svg += "<g class=\"event \(event.kind.rawValue)\"><line x1=\"\(x(at))\" y1=\"16\" x2=\"\(x(at))\" y2=\"140\"/>\(mark)<title>\(event.kind.rawValue) by \(event.method.rawValue) at \(ConsoleFormat.duration(at))</title></g>"
        }
        for event in events where event.method == .dtmf {
            let at = offset(event)
            svg += "<g class=\"key\"><rect x=\"\(f(pos(at) - 5))\" y=\"43\" width=\"10\" height=\"10\" rx=\"2\"/><title>key pressed at \(ConsoleFormat.duration(at)): \(event.kind.rawValue)</title></g>"
        }
        svg += "<text x=\"\(x(0))\" y=\"186\" class=\"legend\">▭ recorded (┃ start, end)  ▮ level  ╷ segment start  ▒ paused  ▨ redacted  ▼ disclosure  ● consent event  ▪ key pressed</text></svg>"
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
            if let redaction = recording.redaction {
                for span in redaction.spans {
                    rows.append((
                        span.startMs, "\(recording.track.rawValue) redacted",
                        "until \(ConsoleFormat.duration(span.endMs)): \(span.kinds.joined(separator: ", ")) (copy \(redaction.verification.rawValue))"
                    ))
                }
            }
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

    /// The levels and segments in text: a summary per recording, then (folded) a table of the level per
    /// bucket and one of the segments' starts.
    func levelsDetails() -> String {
        guard !recordings.isEmpty else { return "" }
        var html = "<section aria-labelledby=\"levels-h\" class=\"levels\"><h3 id=\"levels-h\">Levels and segments</h3><ul class=\"levels\">"
        var measured: [RecordingLevels] = []
        for recording in recordings.sorted(by: { ($0.track == .caller ? 0 : 1) < ($1.track == .caller ? 0 : 1) }) {
            let track = recording.track.rawValue
            switch levels[recording.id] {
            case .measured(let found)?:
                measured.append(found)
                html += "<li data-track=\"\(track)\">\(HTML.escape(Self.summary(found, state: recording.state)))</li>"
            case let other?:
                html += "<li data-track=\"\(track)\" class=\"no-levels\">\(track): \(HTML.escape(other.why ?? ""))</li>"
            case nil:
                html += "<li data-track=\"\(track)\" class=\"no-levels\">\(track): levels not computed</li>"
            }
        }
        html += "</ul>"
        guard let first = measured.first else { return html + "</section>" }
        html += "<details><summary>Level per \(ConsoleFormat.seconds(first.bucketMs)) (RMS)</summary><table class=\"levels\"><caption>Level per bucket, dBFS (silence is \(Int(RecordingLevels.floorDBFS)))</caption><thead><tr><th scope=\"col\">From</th>"
        for levels in measured { html += "<th scope=\"col\">\(levels.track.rawValue)</th>" }
        html += "</tr></thead><tbody>"
        for index in 0..<(measured.map(\.buckets.count).max() ?? 0) where measured.contains(where: { index < $0.buckets.count && $0.buckets[index].hasAudio }) {
            html += "<tr><td>\(ConsoleFormat.duration(Int64(index) * first.bucketMs))</td>"
            for levels in measured {
                let bucket = index < levels.buckets.count ? levels.buckets[index] : nil
                html += "<td>\(bucket.flatMap { $0.hasAudio ? String(format: "%.1f", $0.rmsDBFS) : nil } ?? "–")</td>"
            }
            html += "</tr>"
        }
        html += "</tbody></table></details>"
        html += "<details><summary>Segment starts</summary><table class=\"segments\"><caption>Sealed segments (their first frame on the call's timeline)</caption><thead><tr><th scope=\"col\">Track</th><th scope=\"col\">Segment</th><th scope=\"col\">Starts at</th><th scope=\"col\">Length</th></tr></thead><tbody>"
        for levels in measured {
            for segment in levels.segments {
                html += "<tr><td>\(levels.track.rawValue)</td><td>\(segment.index)</td><td>\(ConsoleFormat.duration(segment.startMs))</td><td>\(ConsoleFormat.seconds(segment.durationMs))</td></tr>"
            }
        }
        return html + "</tbody></table></details></section>"
    }

    /// One recording's levels in a sentence: segments, loudest bucket, how much is above silence.
    static func summary(_ levels: RecordingLevels, state: RecordingState) -> String {
        let track = levels.track.rawValue
        let withAudio = levels.buckets.enumerated().filter { $0.element.hasAudio }
        guard let loudest = withAudio.max(by: { $0.element.rmsDBFS < $1.element.rmsDBFS }) else {
            return "\(track) (\(state.rawValue)): \(levels.segments.count) segments, no audio"
        }
        let heard = withAudio.filter { $0.element.rmsDBFS > floorDBFS }.count
        var text = "\(track) (\(state.rawValue)): \(levels.segments.count) segment\(levels.segments.count == 1 ? "" : "s")"
        if levels.segments.count > maximumSegmentTicks {
            text += " (too many to tick each: ticks only where the audio resumes after a gap)"
        }
        text += "; loudest \(ConsoleFormat.dBFS(loudest.element.rmsDBFS)) at \(ConsoleFormat.duration(Int64(loudest.offset) * levels.bucketMs))"
        text += "; above \(Int(floorDBFS)) dBFS in \(heard) of \(withAudio.count) buckets of \(ConsoleFormat.seconds(levels.bucketMs)) with audio"
        return text
    }
}
