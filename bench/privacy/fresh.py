"""The ``fresh`` split: templates, held-out names and negatives written before any tuning.

Written in one sitting, before the person-name recognizer was changed for issue #5's
recall target, and never used to tune it: only the figures it gives are reported.
The held-out names were written from general knowledge, without consulting the
recognizer's gazetteer or Faker's lists; ``evaluate.py`` reports separately how
many of them those lists happen to contain.

Negatives lean on what trips a name recognizer in an assistant's traffic:
capitalised places, brands, products, holidays and streets named after people.
"""

from __future__ import annotations

# Data tables of multilingual sentences: long lines are the point.

FRESH: dict[str, list[str]] = {
    "en-US": [
        "Can you add {PERSON} to the Thursday call, her number is {PHONE}",
        "Heads up: {PERSON} is covering for me today",
        "Best, {PERSON}",
        "Who is {PERSON}? She emailed me from {EMAIL}",
        "Book a table for two under {PERSON}",
        "Pick up {PERSON} from soccer at 5",
        "my new roommate {PERSON} needs the wifi password",
        "add an appointment with {PERSON} to my calendar",
        "{PERSON} paid with {CREDIT_CARD} and the charge bounced",
        "The lab results for {PERSON} came back, MRN {MEDICAL_RECORD_NUMBER}",
    ],
    "en-GB": [
        "Kind regards, {PERSON}",
        "Has {PERSON} paid the deposit into {IBAN} yet?",
        "Lovely to meet {PERSON} at the school gate this morning",
        "Put {PERSON} down for the Saturday shift",
        "{PERSON} rang about the boiler, call back on {PHONE}",
        "My GP is {PERSON} at the surgery on {STREET_ADDRESS}",
        "{PERSON}, NI number {NINO}, starts on Monday",
    ],
    "de-DE": [
        "Mit freundlichen Grüßen, {PERSON}",
        "Kannst du {PERSON} fragen, ob sie morgen kommt?",
        "{PERSON} hat mir die neue Adresse geschickt: {STREET_ADDRESS}",
        "Bitte trag {PERSON} für Freitag ein",
        "Das Paket ist für {PERSON}, Telefon {PHONE}",
        "Hallo {PERSON}, anbei die Unterlagen",
        "Überweisung von {PERSON} auf {IBAN} ist eingegangen",
    ],
    "fr-FR": [
        "Bien à vous, {PERSON}",
        "Peux-tu prévenir {PERSON} que la réunion est annulée ?",
        "{PERSON} arrive ce soir par le train de 18 h",
        "Ajoute {PERSON} au groupe, son mail c'est {EMAIL}",
        "Le dossier de {PERSON} est prêt, IBAN {IBAN}",
        "Rendez-vous chez {PERSON} samedi",
        "Joignable au {PHONE}, demander {PERSON}",
    ],
    "es-ES": [
        "Atentamente, {PERSON}",
        "¿Has hablado con {PERSON} sobre el presupuesto?",
        "{PERSON} me pasó su número: {PHONE}",
        "Apunta a {PERSON} para la cena del viernes",
        "La reserva está a nombre de {PERSON}",
        "Mañana viene {PERSON} a arreglar la lavadora",
        "{PERSON}, DNI {ES_DNI}, firmó el contrato",
    ],
    "zh-CN": [
        "{PERSON}说他下午到",
        "明天和{PERSON}一起吃饭",
        "帮我约{PERSON}周五见面",
        "{PERSON}的邮箱是{EMAIL}",
        "此致敬礼，{PERSON}",
        "快递由{PERSON}签收，电话{PHONE}",
        "身份证号{CN_RESIDENT_ID}，姓名{PERSON}",
    ],
}  # fmt: skip

# Names absent from Loupe's hand-written gazetteer (asserted by generate.py).
FRESH_HELD_OUT: dict[str, tuple[list[str], list[str]]] = {
    "en-US": (["Jaxon", "Paisley", "Bentley", "Colton", "Skyler", "Marisol", "Dashiell", "Harlow"],
              ["Okafor", "Lindqvist", "Castellanos", "McAllister", "Pruitt", "Stroud", "Hollingsworth", "Yancey"]),
    "en-GB": (["Tabitha", "Barnaby", "Jolyon", "Hermione", "Torquil", "Iona", "Rhodri", "Morwenna"],
              ["Fotheringham", "Trelawney", "Ogilvy", "Marchbanks", "Pemberton", "Braithwaite", "Quiller"]),
    "de-DE": (["Jannik", "Malte", "Henrike", "Frauke", "Knut", "Imke", "Torben", "Wilma"],
              ["Steinbrück", "Ohlendorf", "Brüggemann", "Kuhlmann", "Rautenberg", "Dreesen", "Wachtmeister"]),
    "fr-FR": (["Maëlys", "Gaspard", "Honorine", "Tanguy", "Bérénice", "Enguerrand", "Capucine", "Perrine"],
              ["Le Goff", "Quéméner", "Boisvert", "Derrien", "Lhermitte", "Castagné", "Pouliquen"]),
    "es-ES": (["Ximena", "Unai", "Nerea", "Aitana", "Xabier", "Amaia", "Covadonga", "Telmo"],
              ["Arrizabalaga", "Goikoetxea", "Valdivieso", "Cifuentes", "Mondragón", "Sotomayor", "de la Fuente"]),
    "zh-CN": (["语桐", "沐阳", "思远", "雨泽", "欣怡", "嘉懿", "皓轩"], ["司马", "上官", "卓", "聂", "钟", "薛", "阎"]),
}  # fmt: skip

FRESH_NEGATIVES: list[str] = [
    "Victoria Station is closed for engineering works",
    "Play the new album by Coldplay",
    "Is Central Park open on Sunday",
    "Book two tickets to San Francisco on Friday",
    "The Lincoln Memorial closes at 10",
    "Remind me to buy Greek Yoghurt",
    "Turn on Do Not Disturb until Monday",
    "Navigate to Heathrow Terminal 5",
    "The Royal Mail delivery is late again",
    "Open Google Maps and avoid tolls",
    "Set an alarm for Christmas Eve",
    "Is Marks and Spencer open on Boxing Day",
    "Order a Margherita from Pizza Express",
    "Wie ist das Wetter in Frankfurt am Main",
    "Der Kölner Dom ist heute geschlossen",
    "Wann fährt der nächste ICE nach Stuttgart",
    "Quel temps fait-il à Saint-Étienne demain",
    "Réserve une table au Café de Flore",
    "Le musée du Louvre ferme à 18 h",
    "¿Qué tiempo hace en San Sebastián?",
    "Pon la Champions League en la tele",
    "El Corte Inglés abre a las diez",
    "明天北京天气怎么样",
    "打开微信",
    "导航到天安门广场",
    "flight LH {n4} leaves from gate B{n2}",
    "Kundennummer {n9}, Tarif Classic",
    "référence commande {n12}",
    "call me back in {n2} minutes",
    "Add {n3} grams of flour and bake at 180",
    "pedido {n8} pendiente de pago",
    "快递单号{n12}",
]
