import CallVaultModel
import Testing

@Suite("Address blocks of --sip-allow")
struct AddressBlockTests {
    @Test func blocksContainTheirAddressesOnly() throws {
        let v4 = try #require(AddressBlock("192.0.2.77/24"))
        #expect(v4.description == "192.0.2.0/24")
        #expect(v4.contains("192.0.2.1") && v4.contains("192.0.2.255"))
        #expect(!v4.contains("192.0.3.1"))
        #expect(v4.contains("::ffff:192.0.2.9"), "an IPv4-mapped source is the IPv4 address it carries")
        let one = try #require(AddressBlock("198.51.100.7"))
        #expect(one.contains("198.51.100.7") && !one.contains("198.51.100.8"))
        let v6 = try #require(AddressBlock("2001:db8::/32"))
        #expect(v6.contains("2001:db8:1::5") && !v6.contains("2001:db9::1"))
        #expect(!v6.contains("192.0.2.1"))
        #expect(try #require(AddressBlock("0.0.0.0/0")).contains("203.0.113.9"))
        for bad in ["", "192.0.2.0/33", "2001:db8::/129", "host.example", "192.0.2.0/", "1.2.3.4/-1", "10.0.0.0/8/8"] {
            #expect(AddressBlock(bad) == nil, "\(bad)")
        }
    }

    @Test func sipSettingsSurviveTheirColumnAndAreValidated() throws {
        let settings = TenantSIPSettings(allow: [try #require(AddressBlock("10.1.0.0/16"))], tenantAddresses: ["acme.example"])
        #expect(TenantSIPSettings(columnText: settings.columnText) == settings)
        #expect(TenantSIPSettings().columnText == nil)
        #expect(settings.allows("10.1.2.3") && !settings.allows("10.2.0.1"))
        #expect(throws: CatalogError.self) { try TenantSIPSettings(tenantAddresses: ["a b"]).validate() }
    }
}
