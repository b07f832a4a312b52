import Foundation

extension IngestError {
    /// Decodes a control message with Foundation, turning its errors into ones that name the field.
    ///
    /// Control messages (`start`, `stop`, the stream's first message) are rare, so they may
    /// allocate; the message text is copied once into `Data`.
    static func decode<T: Decodable>(
        _ type: T.Type,
        from text: UnsafeRawBufferPointer,
        what: String
    ) throws(IngestError) -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(text))
        } catch let error as DecodingError {
            throw IngestError(decoding: error, what: what)
        } catch let error as IngestError {
            throw error
        } catch {
            throw IngestError(.malformedJSON, "\(what) is not valid JSON")
        }
    }

    /// Maps a `DecodingError` to a code and a message naming the field path (never its value).
    init(decoding error: DecodingError, what: String) {
        func path(_ codingPath: [any CodingKey], _ last: (any CodingKey)? = nil) -> String {
            let keys = (codingPath + (last.map { [$0] } ?? [])).map { key in
                key.intValue.map { "[\($0)]" } ?? key.stringValue
            }
            return keys.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
        }
        switch error {
        case .keyNotFound(let key, let context):
            self.init(.missingField, "\(what) has no field \(path(context.codingPath, key))")
        case .typeMismatch(let type, let context) where context.codingPath.isEmpty:
            self.init(.wrongType, "\(what) must be \(Self.jsonTypeName(type))")
        case .typeMismatch(let type, let context):
            self.init(.wrongType, "\(what): field \(path(context.codingPath)) must be \(Self.jsonTypeName(type))")
        case .valueNotFound(let type, let context):
            self.init(
                .wrongType,
                "\(what): field \(path(context.codingPath)) must be \(Self.jsonTypeName(type)), not null"
            )
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            self.init(.malformedJSON, "\(what) is not valid JSON")
        case .dataCorrupted(let context):
            self.init(.invalidValue, "\(what): field \(path(context.codingPath)) has an invalid value")
        @unknown default:
            self.init(.malformedJSON, "\(what) could not be decoded")
        }
    }

    private static func jsonTypeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type, is Double.Type, is UInt64.Type: return "a number"
        case is Bool.Type: return "true or false"
        case is [Any].Type: return "an array"
        default: return "an object"
        }
    }
}
