/// Dutch calls, to show a third language is a table: compounds with "en"/"ën", "één" against the
/// article "een", Dutch prompts and harmless talk.
enum DutchFixtures {
    static let sensitive: [CallScript] = [
        .caller("mijn kaartnummer is {card: vier één één één één één één één elf elf één één één één}"),
        .caller("mijn IBAN is {iban: n l negen één a b n a nul vier één zeven één zes vier drie nul nul}"),
        .caller("mijn telefoonnummer is {phone: nul zes twaalf vierendertig zesenvijftig achtenzeventig}"),
        .caller("mijn e-mailadres is {email: jan punt devries apenstaartje gmail punt com}"),
        .caller("geboortedatum {dob: vijf mei negentienhonderdvijfentachtig}"),
        CallScript("beveiligingscode", [(.bot, 0, "en de beveiligingscode"), (.caller, 2000, "{cvv: drie twee één}")]),
        .caller("mijn BSN is {id: honderdelf tweehonderdtweeëntwintig driehonderddrieëndertig}"),
    ]

    static let harmless: [CallScript] = [
        .caller("de bestelling kost vijfentwintig euro"),
        .caller("om half elf graag"),
        .caller("mijn postcode is 1012 AB"),
        .caller("ik wil een kamer voor twee personen"),
        .caller("bestelnummer 58213 graag"),
        .caller("op de vierde verdieping"),
    ]
}
