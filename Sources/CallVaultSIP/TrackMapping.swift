/// Maps each audio `m=` line of a SIPREC offer to a speaker: `a=label` → metadata stream → the
/// participant who sends it → caller or bot by the tenant's ``CustomerRule``. Without metadata (Cisco
/// NBR, old OpenSIPS) it falls back to label order: the first audio stream is the caller, the second
/// the bot. Every inconsistency found is reported in ``contradictions`` and the tracks it touches get
/// ``TrackRole/unknown`` — the recording goes on, but nobody's voice is filed under someone else.
public struct TrackMapping: Sendable, Equatable {
    public struct Track: Sendable, Equatable {
        /// Index into ``SDPSession/media``.
        public var mediaIndex: Int
        public var label: String?
        public var streamID: String?
        public var participantID: String?
        /// The participant's first AOR, for the catalog.
        public var participantAddress: String?
        public var role: TrackRole
    }

    public enum Basis: Sendable, Equatable {
        case metadata
        case labelOrder
    }

    public enum Contradiction: Sendable, Equatable {
        /// An audio m= line without `a=label` while metadata is present.
        case mediaWithoutLabel(mediaIndex: Int)
        /// Two m= lines with the same label.
        case duplicateLabel(String)
        /// A label in the SDP that no metadata stream has.
        case labelWithoutStream(String)
        /// Several metadata streams with one label.
        case labelOnSeveralStreams(String)
        /// A stream no participant sends.
        case streamWithoutSender(streamID: String)
        /// A stream several participants claim to send.
        case streamSentBySeveral(streamID: String, participantIDs: [String])
        /// A metadata stream whose label is on no m= line (a partial update, or a stale label).
        case streamLabelNotInSDP(String)
        /// The customer rule matched no speaker or several; the first stream's speaker was taken.
        case customerNotIdentified(matching: Int)
    }

    public var tracks: [Track]
    public var basis: Basis
    public var contradictions: [Contradiction]

    public static func map(sdp: SDPSession, metadata: RecordingMetadata?, rule: CustomerRule = .firstStream)
        -> TrackMapping
    {
        let audio = sdp.media.indices.filter { sdp.media[$0].kind == "audio" }
        guard let metadata, !metadata.streams.isEmpty else {
            let tracks = audio.enumerated().map { order, index in
                Track(
                    mediaIndex: index,
                    label: sdp.media[index].label,
                    streamID: nil,
                    participantID: nil,
                    participantAddress: nil,
                    role: order == 0 ? .caller : order == 1 ? .bot : .unknown
                )
            }
            return TrackMapping(tracks: tracks, basis: .labelOrder, contradictions: [])
        }
        var contradictions: [Contradiction] = []
        var labelCounts: [String: Int] = [:]
        for index in audio { if let label = sdp.media[index].label { labelCounts[label, default: 0] += 1 } }
        for (label, count) in labelCounts.sorted(by: { $0.key < $1.key }) where count > 1 {
            contradictions.append(.duplicateLabel(label))
        }
        var tracks: [Track] = []
        var speakers: [RecordingMetadata.Participant] = []
        for index in audio {
            var track = Track(
                mediaIndex: index,
                label: sdp.media[index].label,
                streamID: nil,
                participantID: nil,
                participantAddress: nil,
                role: .unknown
            )
            defer { tracks.append(track) }
            guard let label = track.label else {
                contradictions.append(.mediaWithoutLabel(mediaIndex: index))
                continue
            }
            guard labelCounts[label] == 1 else { continue }
            let streams = metadata.streams.filter { $0.label == label }
            guard let stream = streams.first else {
                contradictions.append(.labelWithoutStream(label))
                continue
            }
            guard streams.count == 1 else {
                contradictions.append(.labelOnSeveralStreams(label))
                continue
            }
            track.streamID = stream.id
            let senders = metadata.participants.filter { $0.sends.contains(stream.id) }
            guard let sender = senders.first else {
                contradictions.append(.streamWithoutSender(streamID: stream.id))
                continue
            }
            guard senders.count == 1 else {
                contradictions.append(.streamSentBySeveral(streamID: stream.id, participantIDs: senders.map(\.id)))
                continue
            }
            track.participantID = sender.id
            track.participantAddress = sender.aors.first
            if !speakers.contains(where: { $0.id == sender.id }) { speakers.append(sender) }
        }
        let sdpLabels = Set(labelCounts.keys)
        for stream in metadata.streams {
            if let label = stream.label, !sdpLabels.contains(label) {
                contradictions.append(.streamLabelNotInSDP(label))
            }
        }
        // Who is the customer among the participants that speak on a mapped track.
        var customer = speakers.first?.id
        let candidates: [RecordingMetadata.Participant]? =
            switch rule {
            case .firstStream: nil
            case .notTenantAddress(let tenant):
                speakers.filter { p in !p.aors.contains { aor in tenant.contains { CustomerRule.matches(aor, $0) } } }
            case .participantAddress(let address):
                speakers.filter { p in p.aors.contains { CustomerRule.matches($0, address) } }
            }
        if let candidates, !speakers.isEmpty {
            if candidates.count == 1 {
                customer = candidates[0].id
            } else {
                contradictions.append(.customerNotIdentified(matching: candidates.count))
            }
        }
        for i in tracks.indices {
            guard let participant = tracks[i].participantID else { continue }
            tracks[i].role = participant == customer ? .caller : .bot
        }
        return TrackMapping(tracks: tracks, basis: .metadata, contradictions: contradictions)
    }
}
