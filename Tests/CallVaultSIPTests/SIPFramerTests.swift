import Testing

@testable import CallVaultSIP

@Suite struct SIPFramerTests {
    let one = SIPFixtures.message(["OPTIONS sip:a@b SIP/2.0", "Call-ID: one", "CSeq: 1 OPTIONS"], body: "abc")
    let two = SIPFixtures.message(["BYE sip:a@b SIP/2.0", "Call-ID: two", "CSeq: 2 BYE"])

    func drain(_ framer: inout SIPFramer) throws -> [SIPMessage] {
        var out: [SIPMessage] = []
        while let m = try framer.nextMessage() { out.append(m) }
        return out
    }

    @Test func severalMessagesInOneReadWithKeepAlives() throws {
        var framer = SIPFramer()
        framer.append(Array("\r\n\r\n".utf8) + one + Array("\r\n".utf8) + two + Array("\r\n\r\n".utf8))
        let messages = try drain(&framer)
        #expect(messages.map(\.callID) == ["one", "two"])
        #expect(messages[0].body == Array("abc".utf8))
        #expect(framer.bufferedBytes == 0)
    }

    @Test(arguments: [1, 2, 3, 7, 64])
    func splitAcrossReads(_ size: Int) throws {
        var framer = SIPFramer()
        let stream = one + two + one
        var messages: [SIPMessage] = []
        var i = 0
        while i < stream.count {
            framer.append(stream[i..<min(stream.count, i + size)])
            messages += try drain(&framer)
            i += size
        }
        #expect(messages.map(\.callID) == ["one", "two", "one"])
        #expect(messages.map(\.body) == [Array("abc".utf8), [], Array("abc".utf8)])
    }

    @Test func waitsForTheBody() throws {
        var framer = SIPFramer()
        framer.append(one.dropLast(2))
        #expect(try framer.nextMessage() == nil)
        framer.append(one.suffix(2))
        #expect(try framer.nextMessage()?.body == Array("abc".utf8))
    }

    @Test func contentLengthSmallerThanBodyLeavesGarbageThatFailsNext() throws {
        var framer = SIPFramer()
        framer.append(Array("INFO sip:a@b SIP/2.0\r\nContent-Length: 2\r\n\r\nabcdef\r\n\r\n".utf8))
        #expect(try framer.nextMessage()?.body == Array("ab".utf8))
        #expect(throws: SIPParseError.malformedStartLine) { try framer.nextMessage() }
        // A failed stream stays failed: it has lost its place.
        framer.append(two)
        #expect(throws: SIPParseError.malformedStartLine) { try framer.nextMessage() }
    }

    @Test func refusesOversizeMessagesBeforeBufferingTheBody() throws {
        var framer = SIPFramer(limits: SIPLimits(maxMessageBytes: 1024))
        framer.append(Array("INVITE sip:a@b SIP/2.0\r\nContent-Length: 5000000\r\n\r\n".utf8))
        #expect(throws: SIPParseError.messageTooLarge(limit: 1024)) { try framer.nextMessage() }
    }

    @Test func refusesAnEndlessHeaderLineAtTheLineLimit() throws {
        var framer = SIPFramer(limits: SIPLimits(maxLineBytes: 256))
        framer.append(Array("INVITE sip:a@b SIP/2.0\r\nSubject: ".utf8))
        var thrown: SIPParseError?
        for _ in 0..<100 {
            framer.append([UInt8](repeating: 120, count: 16))
            do { _ = try framer.nextMessage() } catch { thrown = error; break }
        }
        #expect(thrown == .lineTooLong(line: 0, limit: 256))
        #expect(framer.bufferedBytes < 600)
    }

    @Test func refusesAHeadWithoutEndAtTheMessageLimit() throws {
        var framer = SIPFramer(limits: SIPLimits(maxMessageBytes: 1024, maxHeaders: 1000))
        var thrown: SIPParseError?
        framer.append(Array("INVITE sip:a@b SIP/2.0\r\n".utf8))
        for _ in 0..<200 {
            framer.append(Array("X-Pad: 1\r\n".utf8))
            do { _ = try framer.nextMessage() } catch { thrown = error; break }
        }
        #expect(thrown == .messageTooLarge(limit: 1024))
    }

    @Test func manyMessagesCompactTheBuffer() throws {
        var framer = SIPFramer()
        var count = 0
        for _ in 0..<2000 {
            framer.append(two)
            count += try drain(&framer).count
        }
        #expect(count == 2000)
        #expect(framer.bufferedBytes == 0)
    }
}
