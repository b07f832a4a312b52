import CallVaultModel
import CallVaultStore
import Foundation

extension ControlAPI {
    /// `POST /v1/calls/{callId}/utterances` `{"text", "id"?, "startMs"?, "endMs"?}`: something the bot said
    /// (or is about to say) on a live call, in its exact words, so the bot's side of the transcript comes
    /// from the bot and its track need not go through speech recognition.
    ///
    /// Kept only while the call records (the consent rules of the voice: nothing before consent in
    /// opt-in mode, nothing while paused): 409 otherwise, and for a call that is not streaming. `startMs`
    /// defaults to where the stream is now; a Twilio `mark` named after the id moves it to where the bot put
    /// the mark in its audio. 201 once sealed and stored; 503 (with the reason) when it could not be.
    func postUtterance(_ request: ControlRequest, externalCallID: String) async -> ControlResponse {
        let tenant: Tenant
        let object: [String: Any]
        switch await authenticatedObject(request) {
        case .success(let found): (tenant, object) = found
        case .failure(let failure): return failure.response
        }
        guard let text = object["text"] as? String, !text.isEmpty else {
            return .error(400, "\"text\" is required: the words the bot says, as a non-empty string")
        }
        guard text.utf8.count <= BotUtterance.maximumTextBytes else {
            return .error(400, "\"text\" is longer than \(BotUtterance.maximumTextBytes) bytes: send one bot turn at a time")
        }
        let id: String
        if let given = object["id"] {
            guard let given = given as? String, (1...BotUtterance.maximumIDLength).contains(given.utf8.count) else {
                return .error(400, "\"id\" must be a string of 1 to \(BotUtterance.maximumIDLength) bytes")
            }
            id = given
        } else {
            id = UUID().uuidString.lowercased()
        }
        let startMs: Int64?
        let endMs: Int64?
        switch (Self.milliseconds(object["startMs"]), Self.milliseconds(object["endMs"])) {
        case (.failure(let why), _): return .error(400, "\"startMs\" \(why)")
        case (_, .failure(let why)): return .error(400, "\"endMs\" \(why)")
        case (.success(let start), .success(let end)):
            startMs = start
            endMs = end
        }
        if let startMs, let endMs, endMs < startMs {
            return .error(400, "\"endMs\" (\(endMs)) is before \"startMs\" (\(startMs))")
        }
        guard let botUtterances else {
            return .error(503, "this server keeps no utterances (it was started without a key store)")
        }
        let call: CallRecord
        let stream: any LiveCall
        switch await streamingCall(
            tenant, externalCallID, notStreaming: "the bot's words are kept only while its call is recorded")
        {
        case .success(let found): (call, stream) = found
        case .failure(let failure): return failure.response
        }
        let position: Int64?
        do { position = try await stream.recordingPosition().get() } catch { position = nil }
        guard let position else {
            return .error(
                409, "the call is not being recorded now (no consent yet, paused or ending): the utterance was not kept")
        }
        do {
            try await botUtterances.store(
                text: text, callID: call.id, tenantID: tenant.id, utteranceID: id, startMs: startMs ?? position,
                endMs: endMs, placement: startMs == nil ? .arrival : .given)
        } catch {
            switch error.code {
            case .duplicate: return .error(409, error.message)
            case .invalidArgument: return .error(400, error.message)
            case .restricted: return .error(409, error.message)
            default:
                logger.error("an utterance could not be stored", metadata: ["call": "\(call.id)", "error": "\(error.message)"])
                return .error(503, "the utterance could not be stored (\(error.message)); retry")
            }
        }
        return .json(201, ["callId": externalCallID, "id": id, "startMs": startMs ?? position])
    }

    /// A JSON milliseconds field: absent (nil), or a whole number from 0 to 24 h.
    static func milliseconds(_ value: Any?) -> Result<Int64?, MillisecondsError> {
        guard let value else { return .success(nil) }
        guard !(value is String), let number = value as? NSNumber, let whole = Int64(exactly: number.doubleValue),
            (0...86_400_000).contains(whole)
        else { return .failure(MillisecondsError()) }
        return .success(whole)
    }

    struct MillisecondsError: Error, CustomStringConvertible {
        var description: String { "must be a whole number of milliseconds from 0 to 86400000 on the call's timeline" }
    }
}
