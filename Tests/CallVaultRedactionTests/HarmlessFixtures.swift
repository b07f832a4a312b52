/// Calls full of numbers that are not personal data: times, amounts, order numbers, quantities,
/// postcodes, ordinals. Nothing in them may be redacted.
enum HarmlessFixtures {
    static let all: [CallScript] = [
        .caller("let's meet at half past ten"),
        .caller("the appointment is at 10:30"),
        .caller("that costs twenty five euros"),
        .caller("my order number is 58213"),
        .caller("I'd like three boxes of twelve"),
        .caller("my postcode is 1012 AB"),
        .caller("I'm on the fourth floor, the 2nd door"),
        .caller("the total is one hundred and twenty nine euros ninety nine"),
        .caller("we have 250 pieces in stock"),
        .caller("I called at nine fifteen this morning"),
        .caller("um halb elf bitte"),
        .caller("das kostet neunundzwanzig Euro"),
        .caller("meine Bestellnummer ist 4711 0815"),
        .caller("the flight is KL 1234 tomorrow"),
        .caller("room 305 for three nights"),
        .caller("my house number is 221 and the postcode is 1012 AB"),
        .caller("invoice 2024 0001 was 1500 euros"),
        .caller("in twenty twenty four we sold 500 units"),
        .caller("call me at half past ten"),
        .caller("meet me at the station dot"),
        .caller("the twenty first of june works"),
        .caller("it's 2 for 1 on pizzas"),
        .caller("wir treffen uns am dritten Mai um vierzehn Uhr"),
        .caller("ich brauche zwei Stück für 19,99 Euro"),
        .caller("order 12345 and order 67890 please"),
        .caller("the reference is AB 12 34"),
        .caller("I need 2 tickets for the 7th at 8 pm"),
        .caller("it was about 1,500 people"),
        CallScript(
            "amount after a card",
            [
                (.caller, 0, "card {card: 4111 1111 1111 1111}"),
                (.bot, 3000, "that will be 150 euros for 3 nights"),
            ]
        ),
        .caller("postcode 10115 Berlin"),
        .caller("number seven please, twenty two and forty five"),
    ]
}
