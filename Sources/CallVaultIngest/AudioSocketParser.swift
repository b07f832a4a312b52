import CallVaultAudio
import Foundation

/// An incremental parser for an Asterisk AudioSocket TCP stream, one per connection.
///
/// TCP delivers bytes split anywhere, so the parser keeps what it has of a message in a buffer
/// allocated once (`3 + maxPayloadLength` bytes) and hands back whole messages; a message that
/// arrives whole in one read is returned as a view into that read, without copying. It never
/// allocates after `init`. A header is checked as soon as its 3 bytes are in (unknown kind, length
/// too large or wrong for its kind, order), so a lying length is refused before its payload is
/// waited for. After an error the parser stays failed and throws the same error again.
///
/// Rules: the UUID (16 bytes) comes first and only once; audio is non-empty and even; DTMF is one
/// key; hangup is empty; an error message has one code byte; nothing follows hangup or error.
public final class AudioSocketParser {
    /// The longest payload accepted (at most 65535, the protocol's limit).
    public let maxPayloadLength: Int
    /// Whether the UUID message has been parsed.
    public private(set) var sawUUID = false
    /// Whether a hangup or error message ended the stream.
    public private(set) var ended = false

    @usableFromInline let storage: UnsafeMutableRawBufferPointer
    /// Header bytes buffered so far (0–3); at 3, `kind` and `length` are valid.
    var headerCount = 0
    var kind: AudioSocketMessage.Kind = .hangup
    var length = 0
    /// Payload bytes buffered so far for a split message.
    var payloadCount = 0
    var failure: IngestError?

    /// - Parameter maxPayloadLength: messages longer than this are refused with `messageTooLarge`.
    ///   The default holds 20 ms at 192 kHz (7680 bytes) with room to spare.
    public init(maxPayloadLength: Int = 16384) {
        precondition((16...65535).contains(maxPayloadLength), "AudioSocket maxPayloadLength is 16...65535")
        self.maxPayloadLength = maxPayloadLength
        self.storage = .allocate(byteCount: 3 + maxPayloadLength, alignment: 8)
    }

    deinit {
        storage.deallocate()
    }

    /// Consumes bytes from the front of `input` until one message is complete and returns it,
    /// or returns nil when `input` is used up in the middle of one (call again with more bytes).
    ///
    /// Call in a loop until it returns nil: one read may hold several messages.
    /// - Throws: `IngestError` with `unknownKind`, `messageTooLarge`, `wrongLength`, `uuidNotFirst`,
    ///   `invalidValue` (a DTMF byte that is no key), `messageAfterEnd`.
    public func next(from input: inout UnsafeRawBufferPointer) throws(IngestError) -> AudioSocketMessage? {
        if let failure { throw failure }
        do {
            return try step(&input)
        } catch {
            failure = error
            throw error
        }
    }

    /// Checks the stream did not end in the middle of a message (call when the peer closes).
    public func finish() throws(IngestError) {
        if let failure { throw failure }
        guard headerCount == 0 else {
            throw IngestError(
                .streamEndedMidMessage,
                "AudioSocket stream ended inside a message (\(headerCount + payloadCount) bytes of it)"
            )
        }
    }

    private func step(_ input: inout UnsafeRawBufferPointer) throws(IngestError) -> AudioSocketMessage? {
        guard !input.isEmpty else { return nil }
        if ended {
            throw IngestError(.messageAfterEnd, "AudioSocket stream continues after its hangup or error message")
        }
        if headerCount < 3 {
            if headerCount == 0 && input.count >= 3 {
                try readHeader(kind: input[0], high: input[1], low: input[2])
                input = UnsafeRawBufferPointer(rebasing: input[3...])
            } else {
                while headerCount < 3, !input.isEmpty {
                    storage[headerCount] = input[0]
                    headerCount += 1
                    input = UnsafeRawBufferPointer(rebasing: input[1...])
                }
                guard headerCount == 3 else { return nil }
                try readHeader(kind: storage[0], high: storage[1], low: storage[2])
            }
        }
        let payload: UnsafeRawBufferPointer
        if payloadCount == 0 && input.count >= length {
            payload = UnsafeRawBufferPointer(rebasing: input[..<length])
            input = UnsafeRawBufferPointer(rebasing: input[length...])
        } else {
            let take = min(length - payloadCount, input.count)
            if take > 0 {
                UnsafeMutableRawBufferPointer(rebasing: storage[(3 + payloadCount)..<(3 + payloadCount + take)])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: input[..<take]))
                payloadCount += take
                input = UnsafeRawBufferPointer(rebasing: input[take...])
            }
            guard payloadCount == length else { return nil }
            payload = UnsafeRawBufferPointer(rebasing: storage[3..<(3 + length)])
        }
        headerCount = 0
        payloadCount = 0
        return try message(payload)
    }

    /// Validates a header as soon as it is complete, before its payload arrives.
    private func readHeader(kind byte: UInt8, high: UInt8, low: UInt8) throws(IngestError) {
        headerCount = 3
        guard let kind = AudioSocketMessage.Kind(rawValue: byte) else {
            throw IngestError(.unknownKind, "AudioSocket message kind 0x\(String(byte, radix: 16)) is unknown")
        }
        let length = Int(high) << 8 | Int(low)
        guard length <= maxPayloadLength else {
            throw IngestError(
                .messageTooLarge,
                "AudioSocket message of \(length) bytes is longer than the limit of \(maxPayloadLength)"
            )
        }
        if kind == .uuid {
            guard !sawUUID else { throw IngestError(.uuidNotFirst, "AudioSocket stream sends a second UUID") }
        } else if !sawUUID {
            throw IngestError(
                .uuidNotFirst,
                "AudioSocket stream must start with its UUID message (got kind 0x\(String(byte, radix: 16)))"
            )
        }
        switch kind {
        case .uuid where length != 16:
            throw IngestError(.wrongLength, "AudioSocket UUID message must be 16 bytes, got \(length)")
        case .dtmf where length != 1:
            throw IngestError(.wrongLength, "AudioSocket DTMF message must be 1 byte, got \(length)")
        case .hangup where length != 0:
            throw IngestError(.wrongLength, "AudioSocket hangup message must be empty, got \(length) bytes")
        case .error where length != 1:
            throw IngestError(.wrongLength, "AudioSocket error message must be 1 byte, got \(length)")
        default:
            if kind.sampleRateHz != nil {
                guard length > 0 else { throw IngestError(.wrongLength, "AudioSocket audio message is empty") }
                guard length & 1 == 0 else {
                    throw IngestError(
                        .wrongLength,
                        "AudioSocket audio message has an odd length \(length) (PCM16 is 2 bytes a sample)"
                    )
                }
            }
        }
        self.kind = kind
        self.length = length
    }

    /// Builds the message once its payload is complete.
    private func message(_ payload: UnsafeRawBufferPointer) throws(IngestError) -> AudioSocketMessage {
        switch kind {
        case .uuid:
            sawUUID = true
            var bytes: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            withUnsafeMutableBytes(of: &bytes) { $0.copyMemory(from: payload) }
            return .uuid(UUID(uuid: bytes))
        case .dtmf:
            guard let digit = DTMFDigit(ascii: payload[0]) else {
                throw IngestError(
                    .invalidValue,
                    "AudioSocket DTMF byte 0x\(String(payload[0], radix: 16)) is not a key"
                )
            }
            return .dtmf(digit)
        case .hangup:
            ended = true
            return .hangup
        case .error:
            ended = true
            return .error(AudioSocketErrorCode(rawValue: payload[0]))
        default:
            return .audio(sampleRateHz: kind.sampleRateHz ?? 8000, payload: payload)
        }
    }
}
