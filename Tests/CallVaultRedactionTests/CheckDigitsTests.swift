import CallVaultRedaction
import Testing

@Suite struct CheckDigitsTests {
    @Test func luhn() {
        #expect(CheckDigits.luhn("4111111111111111"))
        #expect(CheckDigits.luhn("5555555555554444"))
        #expect(CheckDigits.luhn("378282246310005"))
        #expect(!CheckDigits.luhn("4111111111111112"))
        #expect(!CheckDigits.luhn("41x1"))
    }

    @Test func ibanMod97() {
        #expect(CheckDigits.ibanMod97("NL91ABNA0417164300"))
        #expect(CheckDigits.ibanMod97("DE89370400440532013000"))
        #expect(CheckDigits.ibanMod97("GB29NWBK60161331926819"))
        #expect(!CheckDigits.ibanMod97("NL91ABNA0417164301"))
    }

    @Test func bsnElevenProof() {
        #expect(CheckDigits.bsnElevenProof("111222333"))
        #expect(CheckDigits.bsnElevenProof("123456782"))
        #expect(!CheckDigits.bsnElevenProof("123456789"))
        #expect(!CheckDigits.bsnElevenProof("000000000"))
    }

    @Test func steuerID() {
        #expect(CheckDigits.steuerID("86095742719"))
        #expect(!CheckDigits.steuerID("86095742718"))
        #expect(!CheckDigits.steuerID("06095742719"))
    }
}
