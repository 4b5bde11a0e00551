"""Words around a capitalised run that say it is a person, in the six shipped languages.

Each pattern is matched against the text right before (``…$``) or right after (``^…``)
a candidate, case-insensitively. They are general phrasing — honorifics, greetings,
sign-offs, verbs whose object or subject is nearly always a person — not lists of
sentences: a cue makes *any* capitalised run a name, so each one here is a word that
rarely precedes or follows a place, a company or a product.
"""

from __future__ import annotations

import re

__all__ = [
    "AFTER_CUE",
    "AFTER_PERSON_VERB",
    "AFTER_WEAK",
    "BEFORE_WEAK",
    "CJK_AFTER",
    "CJK_BEFORE",
    "LOWER_CUE",
    "SIGN_OFF",
    "STREET_BEFORE",
    "STRONG_CUE",
    "TITLE",
]

TITLE = re.compile(
    r"(?:\b(?:mr|mrs|ms|miss|mx|dr|prof|professor|sir|dame|lord|lady|herr|herrn|frau|fr|hr|"
    r"m|mme|mlle|monsieur|madame|mademoiselle|sr|sra|srta|señor|señora|señorita|don|doña|dott|"
    r"dottssa|sig|signor|signora|doctor|doktor|docteur|dra|nurse|uncle|aunt|tante|onkel|tía|"
    r"tío|tio|tia|maître|me|abogado|abogada|rechtsanwalt|rechtsanwältin|pastor|father|rabbi)"
    r"\.?\s+)$",
    re.IGNORECASE,
)

_EN = (
    r"call|calling|called|text|texting|message|messaging|email|e-mail|mail|ring|rang|phone|"
    r"phoned|ask|asked|tell|told|remind|meet|met|meeting with|invite|invited|ping|contact|"
    r"dear|hi|hello|hey|hiya|good morning|good afternoon|good evening|thanks|thank you|"
    r"my name is|name is|name's|i'm|i am|this is|it's|named|called|name:|patient|patient:|"
    r"signed|signed by|cc:|attn:?|from:|to:|spoke to|spoke with|speak to|speak with|"
    r"talked to|talked with|talk to|talk with|married|wife|husband|son|daughter|mother|"
    r"father|brother|sister|friend|colleague|manager|cousin|nephew|niece|grandson|"
    r"granddaughter|neighbour|neighbor|boyfriend|girlfriend|partner|fiancé|fiancée|boss|"
    r"assistant|roommate|flatmate|tenant|landlord|coach|teacher|tutor|client|customer|"
    r"seen by|treated by|referred by|examined by|approved by|reviewed by|sent by|written by|"
    r"assigned to|on behalf of|note from|message from|email from|e-mail from|mail from|"
    r"text from|call from|letter from|a word from|surname|first name|last name|full name|"
    r"thank|congratulate|introduce|introduced"
)
_DE = (
    r"nachname|vorname|(?:handy|telefon|nummer|adresse|mail) von|termin mit|treffen mit|"
    r"ruf|rufe|anrufen|schreib|schreibe|nachricht an|frag|frage|fragen|sag|sage|erinnere|"
    r"ich heiße|mein name ist|ich bin|hier ist|hallo|liebe|lieber|sehr geehrte|sehr geehrter|"
    r"guten morgen|guten tag|moin|servus|grüß dich|kollege|kollegin|chef|chefin|freund|"
    r"freundin|nachbar|nachbarin|mann|frau|sohn|tochter|bruder|schwester|mutter|vater|"
    r"gespräch mit|telefonat mit|treffe|triff|einladen|bedanke mich bei"
)
_FR = (
    r"prénom|nom|appelle|appeler|écris à|écris|envoie un message à|message à|dis à|"
    r"demande à|demander|rappelle|rappeler|contacte|contacter|préviens|prévenir|"
    r"je m'appelle|mon nom est|je suis|c'est|bonjour|salut|coucou|cher|chère|"
    r"rendez-vous avec|réunion avec|de la part de|mon collègue|ma collègue|mon ami|mon amie|"
    r"mon voisin|ma voisine|mon mari|ma femme|mon fils|ma fille|mon frère|ma sœur|mon chef|"
    r"ma cheffe|remercie|remercier|invite|inviter"
)
_ES = (
    r"apellido|nombre|(?:móvil|teléfono|correo|número|movil|telefono|dirección) de|"
    r"cita con|reunión con|llama a|llamar a|escribe a|escribir a|manda un mensaje a|"
    r"mensaje a|dile a|pregunta a|preguntar a|recuérdale a|me llamo|mi nombre es|soy|"
    r"habla|hola|buenos días|buenas tardes|querido|querida|estimado|estimada|"
    r"mi compañero|mi compañera|mi amigo|mi amiga|mi vecino|mi vecina|mi marido|mi mujer|"
    r"mi hijo|mi hija|mi hermano|mi hermana|mi jefe|mi jefa|de parte de|"
    # The "personal a": a person as the object of these verbs takes "a".
    r"(?:vi|veo|ver|conocí|conozco|visité|visita|visitar|espera|espero|esperar|busca|busco|"
    r"buscar|avisa|avisar|invita|invitar|saluda|saludar|llamé|llamo|escribí|pregunté|"
    r"contesta|contestar|ayuda|ayudar|contrata|contratar|presenta|presentar) a"
)
# Greetings, form labels and calling verbs in the other languages Loupe meets.
_OTHER = (
    r"forename|forenames|forename\(s\)|given names?|family name|titulaire|account holder|"
    r"holder|reply to|forward (?:this|it) to|share my (?:eta|location) with|"
    r"ciao|salve|gentile|caro|cara|chiama|chiamare|scrivi a|nome|cognome|"
    r"hoi|beste|bel|naam|voornaam|achternaam|stuur|"
    r"olá|ola|oi|liga para|ligar para|liga à|liga ao|"
    r"hej|ring til|ring till|namn|navn|kære|kära|"
    r"szia|kedves|név|imię i nazwisko|imię|nazwisko|cześć|zadzwoń do"
)
STRONG_CUE = re.compile(rf"(?:\b(?:{_EN}|{_DE}|{_FR}|{_ES}|{_OTHER})[\s,:]*)$", re.IGNORECASE)
# Verbs of calling and messaging before a name typed in lower case ("call justine").
LOWER_CUE = re.compile(
    r"\b(?:call|ring|text|message|ping|phone|remind|reply to|forward (?:this|it) to|"
    r"share my (?:eta|location) with|send|chiama|chiamare|llama a|llamar a|liga para|"
    r"ligar para|bel|ring til|ring till|appelle|ruf|zadzwoń do|ask|tell|pay|note|"
    r"schreib|schreibe|scrivi a|envoie un message à|send a message to|message to|stuur|"
    r"call with|that's|to)\s+$",
    re.IGNORECASE,
)

# A closing line: the capitalised run after it is the writer's name.
SIGN_OFF = re.compile(
    r"(?:(?:^|[\s.!])(?:cheers|best|best wishes|all the best|kind regards|best regards|"
    r"warm regards|warmest regards|regards|many thanks|thanks|thank you|love|lots of love|"
    r"yours|yours sincerely|sincerely|yours truly|yours faithfully|take care|talk soon|"
    r"viele grüße|liebe grüße|beste grüße|herzliche grüße|schöne grüße|freundliche grüße|"
    r"mit freundlichen grüßen|mit besten grüßen|grüße|gruß|lg|vg|mfg|bis bald|"
    r"cordialement|bien cordialement|bien à vous|bien à toi|amitiés|bises|bisous|à bientôt|"
    r"salutations|sincères salutations|un saludo|saludos|saludos cordiales|"
    r"un cordial saludo|atentamente|un abrazo|abrazos|besos|hasta pronto|"
    r"groet|groeten|groetjes|met vriendelijke groet|a presto|saluti|cordiali saluti|mvh|"
    r"med vänlig hälsning|hälsningar|vennlig hilsen|venlig hilsen|hilsen|üdv|üdvözlettel|"
    r"cumprimentos|abraços|atenciosamente|pozdrawiam|pozdrowienia|s pozdravem)"
    r"\s*[,!\-\u2013\u2014\n]\s*)$",
    re.IGNORECASE,
)

AFTER_CUE = re.compile(
    r"^(?:'s\b|\u2019s\b|,? (?:at|on|unter|au|al|sur) [+(]?\d[\d \-/.]{5,}|"
    r"\s?\(\+?\d[\d \-/.]{5,}|\s?[(<][^()<>\s]+@|"
    r" (?:and|&) (?:i|me)\b|"
    r",? (?:said|says|wrote|writes|called|texted|emailed|rang|phoned|replied|asked|told|"
    r"thinks|thought|mentioned|agreed|confirmed)\b|"
    r" (?:und ich|hat angerufen|hat geschrieben|hat gesagt|hat gefragt|angerufen|"
    r"geschrieben|gesagt|gefragt|geantwortet|abgesagt|zugesagt)\b|"
    r" (?:et moi|m'a|m\u2019a|nous a|a dit|a écrit|a téléphoné|a appelé|a répondu)\b|"
    r" (?:y yo|me pasó|me dijo|me llamó|me escribió|llamó|dijo|escribió|contestó)\b|"
    r",? (?:dice|ha detto|meinte|zegt|säger|sier|siger|diz|disse|szerint|mówi|dit que)\b|"
    # A phone number or a birth date right after: "Eya : 09 03 09 55 73", "Jean Geb. 1947".
    r"(?:\s?:\s?|\s)(?:[+(]\d|\d+[ \-/.]\d)[\d \-/.()]{5,}\d|"
    r",? (?:tel\.?|geb\.|geboren|né|née|nato|nata|born)(?=[\s:]))",
    re.IGNORECASE,
)

# Verbs that follow people but also things ("the bus left", "der Zug kommt"): enough
# for a run of two name-shaped words or a listed name, not for one unknown word.
AFTER_WEAK = re.compile(
    r"^,? (?:will|would|has|had|is|was|needs|wants|lives|lived|works|worked|moved|left|"
    r"arrived|sent|paid|signed|calls|ruft|schreibt|sagt|meint|wohnt|arbeitet|kommt|kam|"
    r"geschickt|bezahlt|est passée?|a envoyé|habite|vit|travaille|pense|dit|pagó|firmó|"
    r"vive|trabaja)\b",
    re.IGNORECASE,
)

# The few of those whose subject is a person nearly always ("… lives in Kiel", "… wohnt
# in Kiel"): enough for one rare word that no list holds.
AFTER_PERSON_VERB = re.compile(
    r"^ (?:lives|lived|works|worked|wohnt|wohnte|arbeitet|arbeitete|habite|habitait|"
    r"travaille|travaillait|vive|vivía|trabaja|trabajaba)\b",
    re.IGNORECASE,
)

# Words that join a person to the sentence as often as a thing ("with", "and"):
# evidence only together with a name-like shape.
BEFORE_WEAK = re.compile(r"(?:\b(?:with|and|mit|und|avec|et|con|y)\s+)$", re.IGNORECASE)

# Chinese: a cue right before a surname, or a suffix right after the given name.
CJK_BEFORE = re.compile(
    r"(?:给|叫|联系|告诉|问|找|和|跟|与|请|是|患者|姓名[:\uff1a]?|病人|致|通知|提醒|"
    r"收件人[:\uff1a]?|联系人[:\uff1a]?|交给|转给|发给|寄给|同事|朋友|老板|经理)$"
)
CJK_AFTER = re.compile(
    r"^(?:先生|女士|小姐|医生|大夫|老师|经理|教授|同学|律师|护士|总|打电话|发短信|发消息|"
    r"发微信|的电话|的手机|的邮箱|的地址|说|来电|回电|来过|来了|打来|发来|回复|到了)"
)

# A street named after a person ("avenue Victor Hugo", "Calle de Serrano") is an address.
STREET_BEFORE = re.compile(
    r"\b(?:avenue|av|rue|boulevard|bd|place|allée|chemin|quai|impasse|cours|calle|c|avenida|"
    r"avda|paseo|plaza|carrer|via|viale|piazza|corso|rua|street|st|road|rd)\.?"
    r"\s+(?:(?:de la|de l'|de|du|des|del|de los|de las|della|di|dos|da)\s+)?$",
    re.IGNORECASE,
)
