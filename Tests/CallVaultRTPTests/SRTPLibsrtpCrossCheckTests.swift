import Foundation
import Testing

@testable import CallVaultRTP

/// Cross-check against libsrtp2 (the reference implementation, through PyPI's pylibsrtp, installed
/// by `scripts/services install pylibsrtp`): libsrtp protects RTP and RTCP packets, across a
/// sequence wrap, for both suites; ``SRTPContext`` must give back the exact plaintext, and refuse a
/// packet with one bit flipped.
@Suite struct SRTPLibsrtpCrossCheckTests {
    static let script = #"""
        import sys
        from pylibsrtp import Policy, Session
        key = bytes.fromhex(sys.argv[1]); profile = getattr(Policy, sys.argv[2])
        session = Session(policy=Policy(key=key, ssrc_type=Policy.SSRC_ANY_OUTBOUND, srtp_profile=profile))
        for line in sys.stdin:
            kind, packet = line.split()
            packet = bytes.fromhex(packet)
            out = session.protect(packet) if kind == "rtp" else session.protect_rtcp(packet)
            print(out.hex())
        """#

    /// A Python that can import pylibsrtp, or nil.
    static func python() -> String? {
        let environment = ProcessInfo.processInfo.environment
        let cache = environment["XDG_CACHE_HOME"] ?? (NSHomeDirectory() + "/.cache")
        let candidates = [
            environment["CALLVAULT_TEST_PYLIBSRTP_PYTHON"], cache + "/callvault/pylibsrtp/venv/bin/python", "/usr/bin/python3",
        ]
        for case let candidate? in candidates where FileManager.default.isExecutableFile(atPath: candidate) {
            if (try? run(candidate, ["-c", "import pylibsrtp"], input: "")) != nil { return candidate }
        }
        return nil
    }

    static func run(_ executable: String, _ arguments: [String], input: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CocoaError(.executableLoad) }
        return String(decoding: output, as: UTF8.self)
    }

    static func hexString(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    @Test(arguments: SRTPCryptoSuite.allCases)
    func unprotectsWhatLibsrtpProtected(suite: SRTPCryptoSuite) throws {
        guard let python = Self.python() else {
            if ProcessInfo.processInfo.environment["CALLVAULT_SKIP_SERVICES"] == "1" {
                print("⚠️  SKIPPED: SRTP cross-check against libsrtp2 — pylibsrtp is not installed (scripts/services install pylibsrtp)")
                return
            }
            Issue.record("pylibsrtp is missing: run scripts/services install pylibsrtp (or set CALLVAULT_SKIP_SERVICES=1)")
            return
        }
        let key = (0..<30).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        let profile = suite == .aesCM128HMACSHA1_80 ? "SRTP_PROFILE_AES128_CM_SHA1_80" : "SRTP_PROFILE_AES128_CM_SHA1_32"
        var plain: [[UInt8]] = []
        var input = ""
        for i in 0..<40 {
            let seq = UInt16(truncatingIfNeeded: 65_520 + i)
            let payload = (0..<160).map { UInt8(truncatingIfNeeded: $0 * 3 + i) }
            let rtp = rtpPacket(pt: 0, seq: seq, ts: UInt32(160 * i), ssrc: 0x5EED_0001, payload: payload)
            plain.append(rtp)
            input += "rtp \(Self.hexString(rtp))\n"
        }
        // A receiver report with one block, then an SDES chunk (a compound packet).
        let rtcp: [UInt8] = [0x81, 201, 0, 7, 0x5E, 0xED, 0, 1] + [UInt8](repeating: 0x42, count: 24)
            + [0x81, 202, 0, 2, 0x5E, 0xED, 0, 1, 1, 2, 0x41, 0x42]
        input += "rtcp \(Self.hexString(rtcp))\n"
        let output = try Self.run(python, ["-c", Self.script, Self.hexString(key), profile], input: input)
        let lines = output.split(separator: "\n").map { hex(String($0)) }
        try #require(lines.count == 41)

        let context = SRTPContext(
            key: try SRTPKeyParameters(suite: suite, masterKey: Array(key[0..<16]), masterSalt: Array(key[16..<30])))
        for (i, protected) in lines.prefix(40).enumerated() {
            #expect(protected.count == plain[i].count + suite.rtpTagLength)
            if i == 7 {
                var tampered = protected
                tampered[20] ^= 0x80
                #expect(unprotect(context, tampered) == .failure(.authenticationFailed))
            }
            #expect(try unprotect(context, protected).get() == plain[i], "packet \(i)")
        }
        #expect(context.rollover == 1)
        var tampered = lines[40]
        tampered[10] ^= 1
        #expect(unprotectRTCP(context, tampered) == .failure(.authenticationFailed))
        #expect(try unprotectRTCP(context, lines[40]).get() == rtcp)
        #expect(unprotectRTCP(context, lines[40]) == .failure(.replayed))
    }
}
