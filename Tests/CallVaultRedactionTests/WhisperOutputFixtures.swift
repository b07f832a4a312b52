/// What Whisper (base, through `callvault transcribe`) actually wrote for the text-to-speech calls of
/// `scripts/redaction-figures` (festival voices, 8 kHz μ-law through `serve`), word for word: digits
/// glued to a leading hyphen ("-7", "-0417"), a sentence's full stop on the last group ("-300."), an
/// e-mail half written ("jambuary.debrief at mail.com."), mis-heard prompts ("IBON", "eyeball"). The
/// first run of the figures found these gaps; they are kept as fixtures so they stay fixed.
enum WhisperOutputFixtures {
    static let sensitive: [CallScript] = [
        CallScript(
            "Whisper: amex as hyphenated digits",
            [
                (.bot, 0, "Please give me the card number"),
                (.caller, 2_100, "It's {card: 3 -7 -8 -2 -8 -2 -2 -4 -6 -3 -1 -0 -0 -0 -5}"),
            ]),
        .caller("Sure, it is {card: 4111 -111111111111.}"),
        CallScript(
            "Whisper: expiry after the code prompt",
            [(.bot, 0, "And the three digit security code on the back."), (.caller, 3_000, "It is {cvv: 737}")]),
        CallScript(
            "Whisper: expiry with a hyphen and a full stop",
            [(.bot, 0, "And the expiry date."), (.caller, 1_500, "It is {expiry: -1228.}")]),
        .caller("My eyeball is {iban: NL-91, ABN-0417-164-300.}"),
        // "DE89 3704 …" heard as "D 889 …": no country code left, 21 digits, no prompt ("IBON"): redacted
        // by the card-length rule (13 digits or more), so labelled a card. Covered all the same.
        .caller("The IBON is {card: D-889-3704-0044-0532-013000.}"),
        .caller("my BSN is {id: 111 -222 -333.}"),
        .caller("It is {email: jambuary .debrief at mail .com.}"),
        .caller("and a {email: Dutchmit at web .de}"),
        CallScript(
            "Whisper: security code and expiry as one word",
            [(.bot, 0, "And the three digit security code on the back."), (.caller, 2_500, "It is {cvv: 737-1228.}")]),
        CallScript(
            "Whisper: the expiry after its prompt",
            [(.bot, 0, "And the expiry date."), (.caller, 1_500, "{expiry: 1228}")]),
    ]
}
