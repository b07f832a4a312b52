/// A second set written after the rules, in the way engines and callers actually vary (punctuation
/// glued to words, one-token numbers, "slash", "dash", dates with ordinals, more harmless talk), to
/// see what the first set's rules miss. Kept apart so the table shows both.
enum VariantFixtures {
    static let sensitive: [CallScript] = [
        .caller("card number {card: four one one one, one one one one, one one one one, one one one one.}"),
        .caller("my card is {card: 4111111111111111}"),
        .caller("it's {card: 4111. 1111. 1111. 1111.}"),
        .caller("{card: forty one eleven, eleven eleven, eleven eleven, eleven eleven}"),
        CallScript(
            "card over a pause with um",
            [
                (.caller, 0, "the card number is {card#a: 4111 1111}"), (.caller, 4300, "um {card#a: 1111 1111}"),
            ]
        ),
        .caller("{card: 4111 1111 no wait 1111 1111 1111 1111}"),
        .caller("{card: 4111 dash 1111 dash 1111 dash 1111}"),
        .caller("{card: four one one one for one one one one one one one to one one one}"),
        CallScript("CVC question", [(.bot, 0, "what's the CVC?"), (.caller, 1500, "it's {cvv: 9 9 9}")]),
        CallScript(
            "German Sicherheitscode",
            [(.bot, 0, "den Sicherheitscode bitte"), (.caller, 1500, "{cvv: eins zwei drei}")]
        ),
        .caller("expiry {expiry: oh three slash twenty seven}"),
        .caller("valid thru {expiry: 11/29}"),
        .caller("gültig bis {expiry: zwölf sechsundzwanzig}"),
        .caller("{iban: B E six eight five three nine zero zero seven five four seven zero three four}"),
        .caller("IBAN {iban: NL91ABNA0417164300}"),
        .caller("{iban: N-L nine one A-B-N-A zero four one seven one six four three zero zero}"),
        .caller("my number is {phone: zero six, one two, three four, five six, seven eight}"),
        .caller("call me on {phone: +49 30 1234567}"),
        .caller("my landline is {phone: 0 20 123 4567}"),
        .caller("{phone: oh two oh, seven nine four six, oh nine five eight}"),
        .caller("{email: j dot smith at outlook dot com}"),
        .caller("write to {email: info at callvault dot io}"),
        .caller("{email: jan underscore devries at hotmail dot nl}"),
        .caller("send it to {email: anna.schmidt@web.de.}"),
        .caller("it's {email: jan.devries at gmail.com}"),
        .caller("call me on {phone: +31 (0)6 12345678}"),
        .caller("my BSN is {id: one one one two two two three three three}"),
        .caller("Steuer-ID {id: acht sechs null neun fünf sieben vier zwei sieben eins neun}"),
        .caller("I was born on the {dob: 3rd of March 1990}"),
        .caller("date of birth: {dob: 05-12-1985}"),
        .caller("geboren am {dob: 3. März 1990}"),
    ]

    static let harmless: [CallScript] = [
        .caller("see you at 9 am"),
        .caller("it's 3 pm now"),
        .caller("the price is 12.50"),
        .caller("I'm calling about order 4471-22"),
        .caller("my postcode is 2511 CV and house number 14"),
        .caller("can I get 2 large pizzas and 3 cokes"),
        .caller("platform 9 at 10 past 7"),
        .caller("two hundred grams of cheese"),
        .caller("the meeting is on the 21st"),
        .caller("it was 1999 when I moved"),
        .caller("my booking reference is 4471 2231 77"),
        .caller("Rechnung 2024 1234"),
        .caller("ich bin am fünfzehnten in Berlin"),
        .caller("the code for the door is 4711"),
        .caller("I paid 1500 euros on the 3rd"),
        .caller("we were 12 people and 4 kids"),
        .caller("Zimmer 12 bitte"),
        .caller("version 2.0 came out in 2021"),
        .caller("I'll be there in 15 minutes"),
        .caller("that's 3 times 4"),
        .caller("we are open from 9 to 5"),
    ]
}
