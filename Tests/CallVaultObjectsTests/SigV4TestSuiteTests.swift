import CallVaultObjects
import CallVaultTestSupport
import Foundation
import Testing

/// AWS's Signature Version 4 test suite (botocore's copy, in `../shared/testvectors/aws-sigv4`, read in
/// place): for every vector, the canonical request, the string to sign and the `Authorization` header
/// must match the suite's `.creq`, `.sts` and `.authz`.
///
/// No vector is skipped. Notes on reading the suite:
/// - `.req` holds a raw request; its path is unencoded (`get-utf8`, `get-space`: "/example space/"),
///   its query encoded (`get-vanilla-query-order-encoded`); a header line starting with white space
///   continues the previous header (`get-header-value-multiline`).
/// - The suite's credentials are AKIDEXAMPLE / `wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY`, region
///   `us-east-1`, service `service` (botocore's test harness). A vector whose `.creq` has an
///   `x-amz-security-token` header is signed with that session token, as botocore's harness does.
/// - `post-sts-header-after` signs without the token and adds it after (the suite's readme.txt): it is
///   run with ``SigV4Signer/SessionTokenPlacement/addedAfterSigning`` and the token of its `.sreq`,
///   and the signed request must then carry that header.
/// - The `.sreq` files are not compared whole: `get-vanilla-with-session-token.sreq` carries
///   `get-vanilla`'s signature, not the one of its own `.authz`, so the suite contradicts itself there.
/// - The suite's vectors use the general profile (paths normalized, `normalize-path/`); its
///   normalize-path.txt says S3 does not normalize, which ``SigV4Signer/Profile/s3`` follows and
///   `S3SigningExampleTests` checks against S3's own documented examples.
@Suite("SigV4: AWS test suite")
struct SigV4TestSuiteTests {
    static let directory = URL(fileURLWithPath: Repository.root + "/../shared/testvectors/aws-sigv4")
        .standardizedFileURL

    /// Every vector: the folders holding a `NAME/NAME.req`, relative to the suite's folder.
    static func vectorNames() -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: directory.path) else { return [] }
        var names: [String] = []
        while let relative = walker.nextObject() as? String {
            guard relative.hasSuffix(".req") else { continue }
            names.append((relative as NSString).deletingLastPathComponent)
        }
        return names.sorted()
    }

    @Test("the suite is present beside the checkout (a missing folder fails, never skips)")
    func suiteIsPresent() {
        let names = Self.vectorNames()
        #expect(
            names.count >= 30,
            """
            AWS SigV4 test suite not found or incomplete at \(Self.directory.path) (\(names.count) vectors): \
            the signer is NOT verified. CI and developer machines have ../shared/testvectors beside the \
            clone (see shared/testvectors/README.md)
            """
        )
    }

    @Test("every vector matches", arguments: vectorNames())
    func vector(_ name: String) throws {
        let vector = try Vector(name, in: Self.directory)
        var request = vector.request
        let credentials = try AWSCredentials(
            accessKeyID: "AKIDEXAMPLE",
            secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            sessionToken: vector.sessionToken
        )
        let signer = SigV4Signer(
            credentials: credentials,
            region: "us-east-1",
            service: "service",
            profile: .standard,
            sessionTokenPlacement: vector.tokenPlacement
        )
        let signed = try signer.sign(&request, at: vector.date)
        #expect(signed.canonicalRequest == vector.canonicalRequest, "canonical request of \(name)")
        #expect(signed.stringToSign == vector.stringToSign, "string to sign of \(name)")
        #expect(signed.authorization == vector.authorization, "Authorization of \(name)")
        #expect(request.headerValues("Authorization") == [vector.authorization])
        #expect(vector.authorization.hasSuffix("Signature=" + signed.signature))
        if vector.tokenPlacement == .addedAfterSigning {
            #expect(request.headerValues("X-Amz-Security-Token") == [vector.sessionToken])
        }
    }
}

/// One vector of the suite, read from its files.
struct Vector {
    let request: SigV4Request
    let date: Date
    let sessionToken: String?
    let tokenPlacement: SigV4Signer.SessionTokenPlacement
    let canonicalRequest: String
    let stringToSign: String
    let authorization: String

    init(_ name: String, in directory: URL) throws {
        let base = directory.appendingPathComponent(name).appendingPathComponent((name as NSString).lastPathComponent)
        func read(_ suffix: String) throws -> String {
            try String(contentsOf: base.appendingPathExtension(suffix), encoding: .utf8)
        }
        let raw = try read("req")
        var lines = raw.components(separatedBy: "\n")
        let requestLine = lines.removeFirst()
        // "METHOD TARGET HTTP/1.1", where TARGET may hold a space (get-space).
        guard let firstSpace = requestLine.firstIndex(of: " "),
            let version = requestLine.range(of: " HTTP/", options: .backwards)
        else { throw VectorError("\(name): no request line") }
        let method = String(requestLine[..<firstSpace])
        let target = String(requestLine[requestLine.index(after: firstSpace)..<version.lowerBound])
        var headers: [SigV4Request.Field] = []
        while !lines.isEmpty {
            let line = lines.removeFirst()
            if line.isEmpty { break }
            if line.first == " " || line.first == "\t", !headers.isEmpty {
                headers[headers.count - 1].value += "\n" + line
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { throw VectorError("\(name): bad header line") }
            headers.append(.init(String(line[..<colon]), String(line[line.index(after: colon)...])))
        }
        let body = lines.joined(separator: "\n")
        var path = target
        var query: [SigV4Request.Field] = []
        if let mark = target.firstIndex(of: "?") {
            path = String(target[..<mark])
            for pair in target[target.index(after: mark)...].split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard let key = SigV4Signer.uriDecode(String(parts[0])),
                    let value = SigV4Signer.uriDecode(parts.count > 1 ? String(parts[1]) : "")
                else { throw VectorError("\(name): bad query") }
                query.append(.init(key, value))
            }
        }
        self.request = SigV4Request(
            method: method,
            path: path,
            query: query,
            headers: headers,
            payloadHash: SigV4Signer.payloadHash(body.utf8)
        )
        let dateHeader = request.headerValues("X-Amz-Date").first ?? ""
        guard let timestamp = AWSTimestamp(parsing: dateHeader) else { throw VectorError("\(name): no X-Amz-Date") }
        self.date = timestamp.moment
        self.canonicalRequest = try read("creq")
        self.stringToSign = try read("sts")
        self.authorization = try read("authz").trimmingCharacters(in: .newlines)
        let tokenPrefix = "x-amz-security-token:"
        if let line = canonicalRequest.components(separatedBy: "\n").first(where: { $0.hasPrefix(tokenPrefix) }) {
            self.sessionToken = String(line.dropFirst(tokenPrefix.count))
            self.tokenPlacement = .signed
        } else if let line = try read("sreq").components(separatedBy: "\n")
            .first(where: { $0.lowercased().hasPrefix(tokenPrefix) })
        {
            self.sessionToken = String(line.dropFirst(tokenPrefix.count))
            self.tokenPlacement = .addedAfterSigning
        } else {
            self.sessionToken = nil
            self.tokenPlacement = .signed
        }
    }
}

struct VectorError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
