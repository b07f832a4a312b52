import Testing

@testable import CallVaultSIP

@Suite struct BoundedXMLReaderTests {
    func parse(_ s: String, limits: SIPLimits = .default) throws -> MetadataXMLElement {
        try BoundedXMLReader.parse(Array(s.utf8), limits: limits)
    }

    @Test func elementsAttributesTextAndNamespaces() throws {
        let root = try parse(
            "<?xml version='1.0'?><!-- c --><a:root xmlns:a='urn:x' xmlns='urn:d' k=\"v &amp; &lt;w&gt;\"><child n='1'>t&#65;&#x42;<![CDATA[<raw>]]></child><b:other xmlns:b='urn:b'/><plain/></a:root>"
        )
        #expect(root.prefix == "a" && root.localName == "root" && root.namespace == "urn:x")
        #expect(root.attribute("k") == "v & <w>")
        #expect(root.children.count == 3)
        #expect(root.children[0].namespace == "urn:d" && root.children[0].text == "tAB<raw>")
        #expect(root.children[1].namespace == "urn:b")
        #expect(root.children(named: "PLAIN").count == 1)
    }

    @Test(arguments: [
        ("<!DOCTYPE r [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]><r>&b;</r>", SIPParseError.xmlDoctypeRefused),
        ("<r><!ENTITY x 'y'></r>", .xmlDoctypeRefused),
        ("<!DOCTYPE r SYSTEM \"file:///etc/passwd\"><r/>", .xmlDoctypeRefused),
        ("<r>&ext;</r>", .xmlUnknownEntity),
        ("<r a='&nbsp;'/>", .xmlUnknownEntity),
        ("<r>&#0;</r>", .xmlUnknownEntity),
        ("<r>&#xD800;</r>", .xmlUnknownEntity),
        ("<r>& loose</r>", .xmlUnknownEntity),
    ])
    func refusedEntitiesAndDTDs(_ text: String, _ error: SIPParseError) {
        #expect(throws: error) { try parse(text) }
    }

    @Test(arguments: [
        "", "text", "<r>", "<r></s>", "<r/><r/>", "<r a=b/>", "<r a='1' a='2'/>", "</r>", "<r><![CDATA[x</r>",
        "<r a='<'/>",
    ])
    func malformed(_ text: String) {
        #expect {
            try parse(text)
        } throws: { error in
            if case .xmlMalformed = error as? SIPParseError { return true }
            return false
        }
    }

    @Test func limits() {
        let deep = String(repeating: "<a>", count: 30) + String(repeating: "</a>", count: 30)
        #expect(throws: SIPParseError.xmlTooDeep(limit: 24)) { try parse(deep) }
        let wide = "<r>" + String(repeating: "<a/>", count: 5000) + "</r>"
        #expect(throws: SIPParseError.xmlTooManyElements(limit: 4096)) { try parse(wide) }
        #expect(throws: SIPParseError.xmlTooLarge(limit: 100)) {
            try parse("<r>" + String(repeating: "x", count: 200) + "</r>", limits: SIPLimits(maxXMLBytes: 100))
        }
    }
}
