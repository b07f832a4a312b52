/// Calls in which something must be redacted, many phrasings per kind. Test numbers only: Visa
/// 4111…, Mastercard 5555…4444, Amex 3782…, the IBAN registry's examples, BSN test numbers.
enum SensitiveFixtures {
    static let cards: [CallScript] = [
        .caller("my card number is {card: 4111 1111 1111 1111}"),
        CallScript(
            "words after the bot's prompt",
            [
                (.bot, 0, "please read me the long number on your card"),
                (.caller, 4000, "{card: four one one one one one one one one one one one one one one one}"),
            ]
        ),
        .caller("it is {card: four one double one, double one double one, eleven eleven, 1111}"),
        .caller("{card: 4111-1111-1111-1111}"),
        CallScript(
            "split over two utterances, uh and a bot mm-hmm between",
            [
                (.caller, 0, "it's {card#a: 4111 1111} uh"),
                (.bot, 1800, "mm-hmm"),
                (.caller, 3100, "{card#a: 1111 1111}"),
            ]
        ),
        .caller("{card: five five five five, five five five five, 5555, forty four forty four}"),
        .caller("amex {card: three seven eight two eight two two four six three one zero zero zero five}"),
        .caller("the number is {card: 4111 1111 1111 1112 sorry no 1111} thanks"),
        .caller("my visa is {card: 4111 1111 1111 1112}"),
        .caller("meine Kartennummer ist {card: vier eins eins eins eins eins eins eins elf elf eins eins eins eins}"),
        CallScript(
            "the bot reads it back",
            [
                (.caller, 0, "{card: 4000 0566 5566 5556}"),
                (.bot, 3000, "I have {card: 4000 0566 5566 5556} is that right"),
            ]
        ),
        .caller("{card: 4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1}"),
    ]

    static let cardDetails: [CallScript] = [
        CallScript(
            "security code after the bot's prompt",
            [
                (.bot, 0, "and the security code please"), (.caller, 2500, "{cvv: one two three}"),
            ]
        ),
        CallScript(
            "the three digits on the back",
            [
                (.bot, 0, "the three digits on the back please"), (.caller, 3000, "yes {cvv: 737}"),
            ]
        ),
        CallScript(
            "CVV without a prompt right after the card",
            [
                (.caller, 0, "my card is {card: 4111 1111 1111 1111}"), (.bot, 3000, "thank you what else"),
                (.caller, 6000, "{cvv: 123}"),
            ]
        ),
        CallScript(
            "German Prüfziffer",
            [
                (.bot, 0, "und die Prüfziffer bitte"), (.caller, 2000, "{cvv: sieben drei sieben}"),
            ]
        ),
        .caller("the CVV is {cvv: 4 5 6}"),
        CallScript(
            "expiry as words",
            [(.bot, 0, "what is the expiry date"), (.caller, 2500, "{expiry: twelve twenty six}")]
        ),
        .caller("it expires {expiry: 03/27}"),
        .caller("valid until {expiry: december twenty seven}"),
        CallScript(
            "expiry right after the card",
            [
                (.caller, 0, "card {card: 5555 5555 5555 4444}"), (.caller, 2500, "{expiry: oh nine twenty eight}"),
            ]
        ),
    ]

    static let bank: [CallScript] = [
        .caller("my IBAN is {iban: NL91 ABNA 0417 1643 00}"),
        .caller("my IBAN is {iban: n l nine one a b n a zero four one seven one six four three zero zero}"),
        .caller("{iban: DE89 3704 0044 0532 0130 00}"),
        .caller(
            "meine IBAN ist {iban: d e acht neun drei sieben null vier null null vier vier null fünf drei zwei null eins drei null null null}"
        ),
        CallScript(
            "IBAN split over two utterances",
            [
                (.caller, 0, "{iban#a: n l nine one a b n a} uh"), (.bot, 3200, "yes"),
                (.caller, 4000, "{iban#a: zero four one seven one six four three zero zero}"),
            ]
        ),
        .caller("{iban: november lima nine one alpha bravo november alpha 0417164300}"),
        .caller("{iban: GB29 NWBK 6016 1331 9268 19}"),
        .caller("my account number is {account: 12345678}"),
        .caller("meine Kontonummer ist {account: null vier eins sieben eins sechs vier drei null null}"),
    ]

    static let contact: [CallScript] = [
        .caller("you can call me on {phone: +31 6 12345678}"),
        .caller("{phone: plus three one six one two three four five six seven eight}"),
        .caller("my number is {phone: 06 12 34 56 78}"),
        .caller("meine Handynummer ist {phone: null eins sieben sechs eins zwei drei vier fünf sechs sieben acht}"),
        .caller("my phone number is {phone: zero zero four four two zero seven nine four six zero nine five eight}"),
        .caller("my mobile is {phone: oh seven seven double oh nine double oh one two three}"),
        .caller("my email is {email: jan dot devries at gmail dot com}"),
        .caller("it's {email: jan.devries@gmail.com}"),
        .caller("meine Adresse ist {email: anna punkt schmidt ät web punkt de}"),
        .caller("{email: j a n at example dot co dot uk}"),
        .caller("email {email: jan dot devries uh at gmail dot com} please"),
    ]

    static let ids: [CallScript] = [
        .caller("my BSN is {id: 111222333}"),
        .caller("my citizen service number is {id: one two three four five six seven eight two}"),
        .caller("meine Steuer-ID ist {id: 86095742719}"),
        .caller("it's {id: 123456782}"),
        CallScript(
            "date of birth with a month name",
            [
                (.bot, 0, "what is your date of birth"),
                (.caller, 2500, "the {dob: fifth of may nineteen eighty five}"),
            ]
        ),
        .caller("I was born on {dob: 12/05/1985}"),
        .caller("Geburtsdatum {dob: dritter März neunzehnhundertneunzig}"),
        CallScript(
            "date of birth as digits",
            [
                (.bot, 0, "your date of birth please"), (.caller, 2500, "{dob: twelve oh five nineteen eighty five}"),
            ]
        ),
    ]

    static let all: [CallScript] = cards + cardDetails + bank + contact + ids
}
