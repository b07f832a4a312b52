/// A third set, written last. Its first run recalled 16 of 18 (missed: a national mobile number
/// without its leading 0 after "my number is", and an e-mail whose domain ends "dot n l"); both
/// rules were then added, so it is no longer held out either. Its table is printed, not asserted.
enum HeldOutFixtures {
    static let sensitive: [CallScript] = [
        .caller("the number on the card is {card: 4,111,111,111,111,111}"),
        CallScript(
            "card in four groups with long pauses after a prompt",
            [
                (.bot, 0, "go ahead with the card number"),
                (.caller, 3000, "{card#a: 4111}"), (.caller, 6700, "{card#a: 1111}"),
                (.caller, 10400, "{card#a: 1111}"),
                (.caller, 14100, "{card#a: 1111}"),
            ]
        ),
        .caller("{card: four thousand one hundred eleven, eleven eleven, eleven eleven, eleven eleven}"),
        .caller("{card: vier eins eins eins äh eins eins eins eins ähm eins eins eins eins eins eins eins eins}"),
        CallScript(
            "bot asks, caller gives card then code in one breath",
            [
                (.bot, 0, "card number and security code please"),
                (.caller, 2500, "{card: 5555 5555 5555 4444} {cvv: 321}"),
            ]
        ),
        .caller("my credit card is a visa {card: 4000 0566 5566 5556} expiring {expiry: 0828}"),
        .caller("{iban: D E 89 3704 0044 0532 0130 00}"),
        .caller("IBAN {iban: NL 91 ABNA 0417 1643 00}"),
        .caller("my sort code is {account: 20 00 00} and account {account: 55779911}"),
        .caller("my number is {phone: 6 12 34 56 78}"),
        .caller("my mobile number is {phone: zero six double one two two three three four}"),
        .caller("text me on {phone: oh seven seven double oh, nine double oh, one two three}"),
        .caller("{email: JanDeVries at gmail dot com}"),
        .caller("it's {email: jan dash devries at proton dot me}"),
        .caller("my email address is {email: jan at devries dot n l}"),
        .caller("my social security number is {id: 078-05-1120}"),
        .caller("born {dob: twenty fourth of december nineteen ninety}"),
        .caller("my birthday is {dob: June 3rd 1988}"),
    ]

    static let harmless: [CallScript] = [
        .caller("the total comes to 1,234,567 euros"),
        .caller("I have 4 cards and 2 accounts"),
        .caller("my card arrived on the 5th and I called at 9"),
        .caller("can you call me back at four thirty"),
        .caller("the phone costs 699 euros"),
        .caller("I was born in Amsterdam"),
        .caller("send it to the office at the station"),
        .caller("order number 1234 5678 9012"),
        .caller("my membership number is 88 77 66"),
        .caller("it's on page 112, line 14"),
        .caller("das sind dreihundertfünfzig Euro"),
        .caller("we need 1000 units by the 15th of March"),
    ]
}
