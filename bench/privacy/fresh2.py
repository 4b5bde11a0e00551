"""The ``fresh2`` split: a second untuned split, written before the name-shape round.

Written in one sitting, before the person-name recognizer was changed for the
name-shape and common-word signals, and saved and evaluated once before any of
that code existed; it is never used to tune the recognizer (only its figures are
reported, its misses and false positives are not inspected). The templates are
phrased as people write to an assistant or to each other, not around the cue
lists: many put the name where no cue word is (sentence-initial, after "per",
"laut", "selon", "según", inside a list), and many carry capitalised distractors
(apps, shops, places, products, German nouns) next to the name.

Names come in more shapes than in the other splits: a family name alone after a
title (``{SURNAME}``), Spanish double family names, hyphenated and particle names
in the held-out lists. The held-out names were written from general knowledge and
only afterwards checked against the lists, to keep at least half of them out of
every list (``evaluate.py`` reports listed and unlisted names separately).

Negatives are what an assistant hears that is capitalised and not a person:
songs, films and shows after "play", app names, shops and brands, places and
streets named after people, German nouns, sentence-initial words, and Chinese
place names and words that start with a family-name character (王府井, 马上, 周末).
"""

from __future__ import annotations

# Data tables of multilingual sentences: long lines and full-width punctuation are the point.
import random

from loupe.privacy.detectors.gazetteer import FAMILY_NAMES, GIVEN_NAMES

FRESH2: dict[str, list[str]] = {
    "en-US": [
        "Remind me to Venmo {PERSON} forty bucks for the concert tickets",
        "Did {PERSON} ever send over the Q3 deck?",
        "{PERSON} from the Denver office wants to move our 1:1 to Thursday",
        "Schedule a Zoom with {PERSON} and {PERSON} next Tuesday at 3",
        "Share my Spotify playlist with {PERSON}",
        "Navigate to {PERSON}'s house",
        "Leave a voicemail for {PERSON}: the plumber is coming at noon",
        "Per {PERSON}, the Memorial Day sale starts Friday",
        "Patient {PERSON}, DOB {DATE_OF_BIRTH}, reports dizziness since starting Lisinopril",
        "FaceTime {PERSON}",
        "Thanks so much {PERSON}! See you at Whole Foods",
        "Send {PERSON} the Airbnb link for Lake Tahoe",
        "I'm meeting {PERSON} at Starbucks on Main Street",
        "Dr. {SURNAME} moved my appointment, the office number is {PHONE}",
        "Put {PERSON} on the guest list for Saturday",
        "Venmo request from {PERSON} for Uber Eats",
    ],
    "en-GB": [
        "Tell {PERSON} the Northern line is down again",
        "{PERSON} is off sick today, can someone cover the Tesco delivery?",
        "Add {PERSON} to the WhatsApp group for five-a-side",
        "Please forward the minutes to {PERSON} before Wednesday",
        "I've booked {PERSON} in for a trim at half two",
        "{PERSON}, date of birth {DATE_OF_BIRTH}, seen in A&E with a sprained wrist",
        "Could {PERSON} ring me on {PHONE} when she's free",
        "Order flowers for {PERSON} from Bloom & Wild",
        "Ask {PERSON} whether the Vauxhall passed its MOT",
        "Happy retirement {PERSON}!",
        "Mr {SURNAME} from Flat 4 says the boiler is leaking again",
        "Lunch with {PERSON} at Pret, then the Barbican",
        "Our new tenant is {PERSON}, deposit paid from {IBAN}",
        "Invoice queries go to {PERSON} in Finance",
    ],
    "de-DE": [
        "Erinnere mich daran, {PERSON} zum Geburtstag zu gratulieren",
        "{PERSON} bringt morgen den Kuchen für die Weihnachtsfeier mit",
        "Wann hat {PERSON} nochmal Urlaub?",
        "Leite die E-Mail an {PERSON} weiter",
        "Die Steuererklärung hat {PERSON} schon abgegeben",
        "Sag {PERSON} Bescheid, dass die Besprechung ausfällt",
        "Ich treffe mich um acht mit {PERSON} am Alexanderplatz",
        "Patientin {PERSON}, geb. {DATE_OF_BIRTH}, klagt über Kopfschmerzen",
        "Zahlung an {PERSON}, IBAN {IBAN}, Verwendungszweck Miete März",
        "Kannst du {PERSON} vom Bahnhof abholen?",
        "Schöne Grüße von {PERSON} aus dem Urlaub",
        "Laut {PERSON} ist die Heizung wieder kaputt",
        "Frau Dr. {SURNAME} hat die Sprechstunde auf Donnerstag verlegt",
        "Morgen Abend Essen bei {PERSON} und {PERSON}",
    ],
    "fr-FR": [
        "Rappelle-moi d'envoyer les photos à {PERSON}",
        "{PERSON} a réservé la salle pour jeudi",
        "Est-ce que {PERSON} vient au mariage ?",
        "Mets {PERSON} en copie du mail pour la Banque Populaire",
        "J'ai croisé {PERSON} au Monoprix ce matin",
        "Merci {PERSON} pour le gâteau !",
        "Transfère le devis à {PERSON}, {EMAIL}",
        "Le médecin traitant de {PERSON} part à la retraite",
        "Selon {PERSON}, le RER B est en grève demain",
        "On dîne chez {PERSON} et {PERSON} samedi soir",
        "{PERSON}, né le {DATE_OF_BIRTH}, joignable au {PHONE}",
        "Bisous, {PERSON}",
        "Maître {SURNAME} attend les pièces du dossier avant vendredi",
        "Covoiturage avec {PERSON} jusqu'à Nantes",
    ],
    "es-ES": [
        "Recuérdame felicitar a {PERSON} el domingo",
        "{PERSON} no puede venir a la reunión de mañana",
        "¿Sabes si {PERSON} ya pagó el alquiler?",
        "Reenvía el correo a {PERSON}",
        "Quedamos con {PERSON} en la Puerta del Sol a las ocho",
        "Gracias, {PERSON}, por todo",
        "El paciente {PERSON}, con DNI {ES_DNI}, tiene cita el lunes",
        "Según {PERSON}, el Mercadona cierra a las nueve",
        "Hazle un Bizum de 20 euros a {PERSON}",
        "Hoy cena en casa {PERSON} con sus hijos",
        "Transferencia de {PERSON} a la cuenta {IBAN}",
        "Besos, {PERSON}",
        "La doctora {SURNAME} pasa consulta los martes",
        "Comida con {PERSON} y {PERSON} en El Retiro",
    ],
    "zh-CN": [
        "提醒我明天给{PERSON}转账",
        "{PERSON}今天请假了",
        "把会议纪要发给{PERSON}和{PERSON}",
        "{PERSON}的生日是下周三",
        "下午三点和{PERSON}在星巴克见面",
        "我同事{PERSON}住在{STREET_ADDRESS}",
        "帮我查一下{PERSON}的航班",
        "{PERSON}刚才打电话说会晚点到",
        "病人{PERSON}，身份证号{CN_RESIDENT_ID}",
        "谢谢{PERSON}老师",
        "我和{PERSON}一起去上海出差",
        "这周末{PERSON}请大家吃火锅",
    ],
}  # fmt: skip

# Names absent from Loupe's hand-written gazetteer (asserted by generate.py). Written
# first, then checked against the merged lists only to count how many are unlisted.
FRESH2_HELD_OUT: dict[str, tuple[list[str], list[str]]] = {
    "en-US": (["Kaydence", "Jaylen", "Tamika", "Deshawn", "Thaddeus", "Magnolia", "Wren", "Cormac",
               "Lennox", "Araceli", "Oluwaseun", "Adaeze", "Brynlee", "Zaylee", "Kashton", "Maverick"],
              ["Vanderpool", "Kowalewski", "Whitlock", "Abernathy", "Nwachukwu", "Szczepanski",
               "Rutledge", "Blankenship", "Quigley", "Oyelaran", "Tuttlebury", "Haverkamp", "Gruenwald",
               "Ostrowiecki", "Delacorte", "Pankhurst-Reyes"]),
    "en-GB": (["Ptolemy", "Jocasta", "Lettice", "Fenella", "Cosmo", "Inigo", "Ffion", "Bronwen",
               "Lachlan", "Euphemia", "Tristram", "Clemency", "Ottoline", "Hengist"],
              ["Haversham", "Featherstonehaugh", "Ravenscroft", "Ackroyd", "Blenkinsop", "Entwistle",
               "Ramsbottom", "Higginbottom", "Sowerby", "Attenborrow", "Throssell", "Winterbottom",
               "Cruickshank", "Penhaligon"]),
    "de-DE": (["Hinnerk", "Eike", "Gunda", "Okke", "Hiltrud", "Ansgar", "Mareike", "Jorinde",
               "Reinhild", "Tjark", "Wiltrud", "Edeltraud", "Gernot", "Ortwin"],
              ["Oberländer", "Pfannkuch", "Hülsmann", "Lüdtke", "Kleinschmidt", "Wendehorst",
               "Rotermund", "Quistorp", "Brinkhaus", "Scharnhorst", "Dobrindt", "Tiedjen",
               "Hövelmann", "Möllenbeck", "Schlüterbusch", "von Ahlefeldt"]),
    "fr-FR": (["Ghislain", "Blandine", "Eudes", "Philibert", "Sidonie", "Gwendal", "Maïwenn",
               "Apolline", "Tugdual", "Ombeline", "Aristide", "Léonce", "Anne-Laure", "Pierre-Yves"],
              ["Kerbrat", "Le Floch", "Vasseur", "Ducasse", "Chardonnet", "Lemarchand", "Pruvost",
               "Abgrall", "Rouxel", "Hennequin", "Quéffélec", "Tréhorel", "Kervella", "Duchâtel",
               "de Kersauson"]),
    "es-ES": (["Arantxa", "Eneko", "Josune", "Urko", "Maialen", "Gorka", "Remedios", "Custodio",
               "Sagrario", "Leire", "Edurne", "Asier", "Itxaso", "Garazi"],
              ["Echeverría", "Ibarguren", "Lizarraga", "Garmendia", "Azkue", "Ormaetxea",
               "Berasategui", "Villalobos", "Landaluce", "Olazábal", "Urdangarin", "Iturralde",
               "Zuloaga", "Arrieta", "de la Torre"]),
    "zh-CN": (["一鸣", "梦瑶", "俊熙", "紫涵", "昕", "晗", "泽宇", "可馨", "诗涵", "锦程", "若彤", "沛"],
              ["祁", "庞", "喻", "尉迟", "皇甫", "郝", "樊", "翟", "邢", "殷", "闵", "王", "李"]),
}  # fmt: skip

FRESH2_NEGATIVES: list[str] = [
    # "play ..." with songs, films and shows.
    "Play Bohemian Rhapsody by Queen",
    "Play Hotel California on Spotify",
    "Put on Stranger Things season 4",
    "Play the Forrest Gump soundtrack",
    "Play Eleanor Rigby",
    "Spiel Atemlos durch die Nacht",
    "Mets Les Misérables sur Netflix",
    "Pon La Bamba en el salón",
    "播放《青花瓷》",
    # Apps.
    "Open Google Maps and avoid tolls",
    "Launch Microsoft Teams",
    "Open Duolingo and start today's lesson",
    "Öffne die DB Navigator App",
    "Ouvre Doctolib",
    "Abre Wallapop",
    "打开支付宝",
    # Places, landmarks, and streets named after people.
    "Directions to Fisherman's Wharf",
    "How far is Mount Rainier from Seattle",
    "What's the weather in Santa Monica",
    "Is Hyde Park open after dark",
    "Turn left on Martin Luther King Jr Boulevard",
    "Take the George Washington Bridge to avoid traffic",
    "Parken in der Nähe der Karl-Marx-Allee",
    "Wie weit ist es bis Garmisch-Partenkirchen",
    "La boulangerie de la rue Victor Hugo ferme tôt",
    "Trouve un hôtel à Aix-en-Provence",
    "Vuelos baratos a Santa Cruz de Tenerife",
    "El museo Reina Sofía abre a las diez",
    "导航去王府井",
    "张家界的门票多少钱",
    "明天去黄山玩",
    # Shops, brands and products.
    "Add Ben & Jerry's to the shopping list",
    "Compare Dyson and Miele vacuums",
    "Track my Amazon order",
    "Buy Nespresso capsules",
    "Reserve a Tesla Model Y test drive",
    "Is the Galaxy Buds Pro on sale at Best Buy",
    "Bestell bei Rossmann Zahnpasta nach",
    "Le Decathlon de Bordeaux a des vélos",
    "¿Zara tiene rebajas este fin de semana?",
    # German nouns and sentence-initial words.
    "Bitte Milch, Butter und Brot auf die Einkaufsliste setzen",
    "Morgen früh Wäsche waschen und Fenster putzen",
    "Der Handwerker kommt wegen der Heizung",
    "Termin beim Zahnarzt verschieben",
    "Honestly the traffic is terrible today",
    "Grab milk on the way home",
    "Maybe Friday works better for everyone",
    "Remember to water the plants",
    "Sehr schön, danke!",
    "Demain matin, réunion à neuf heures",
    "Mañana llueve en toda Galicia",
    "马上出发",
    "周末去钟楼看看",
    # Holidays and events, and numbers that are not identifiers.
    "Thanksgiving dinner is at six",
    "Oktoberfest tickets for September {n2}",
    "Quarterly report v{v} is ready",
    "Flug LH {n4} landet um {n2}:30",
    "Tischreservierung für {n2} Personen im Ratskeller",
    "commande n° {n9} expédiée",
    "pedido {n8} en reparto",
    "Order {n10} from Pottery Barn is delayed",
    "订单{n12}已签收",
]


def fresh2_person(
    rng: random.Random, locale: str, *, surname_only: bool = False
) -> tuple[str, str]:
    """A name and where it came from (``"gazetteer"`` or ``"held_out"``).

    Half the names are held out. Latin-script names: a given and a family name
    (60 %), a given name alone (25 %), or three words (15 %): two family names in
    Spanish, a given name, a middle name and a family name elsewhere; with
    ``surname_only`` a family name alone (after a title in the template).
    """
    held = rng.random() < 0.5
    source = "held_out" if held else "gazetteer"
    if locale == "zh-CN":
        if held:
            given, family = FRESH2_HELD_OUT[locale]
        else:
            given, family = ["伟", "芳", "秀英", "建国", "丽", "强"], ["王", "李", "张", "刘", "陈"]
        return rng.choice(family) + rng.choice(given), source
    if held:
        given, family = FRESH2_HELD_OUT[locale]
    else:
        given, family = sorted(GIVEN_NAMES), sorted(FAMILY_NAMES)
    if surname_only:
        return rng.choice(family), source
    style = rng.random()
    if style < 0.6:
        return f"{rng.choice(given)} {rng.choice(family)}", source
    if style < 0.85:
        return rng.choice(given), source
    if locale == "es-ES":
        first, second = rng.sample(family, 2)
        return f"{rng.choice(given)} {first} {second}", source
    first, middle = rng.sample(given, 2)
    return f"{first} {middle} {rng.choice(family)}", source
