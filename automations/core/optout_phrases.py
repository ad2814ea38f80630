"""What asking to stop sounds like, as data per language (EMAIL.md, "Replies and bounces").

Each phrase is a regular expression over lower-case text with `'` for `’`. A negation
(NEGATIONS) up to NEGATION_WINDOW words before a phrase, in the same clause, turns it
around ("I don't want to unsubscribe"); in the languages that put `not` after the verb
(AFTER) one word or two after it does too ("Avregistrera mig inte").
"""

from __future__ import annotations

PHRASES: dict[str, tuple[str, ...]] = {
    "en": (
        r"\bunsubscribe\b",
        r"\bremove (me|my (e-?mail|address|name))\b",
        r"\btake me off\b",
        r"\bopt (me )?out\b",
        r"\bno more (e-?mails?|messages|mails?|newsletters?|of these)\b",
        r"\bstop (e-?mailing|sending|writing( to)?|contacting|messaging)( me)?\b",
        r"\b(do not|don't|please never) (e-?mail|contact|write( to)?|message) me\b",
        r"\b(do not|don't) send (me )?(these|this|them|any( more)?|more|e-?mails?|messages)\b",
        r"\b(rather|prefer) not (to )?(get|receive|hear)\b",
        r"\bnot interested\b",
        r"\b(i|we) (do not|don't) want (these|this|your|any( more)?|more) "
        r"(e-?mails?|messages|mails?|newsletters?|notes|updates)\b",
        r"\bleave me (off|out)\b",
    ),
    "de": (
        r"\b(abmelden|abbestellen|austragen|abzumelden|auszutragen)\b",
        r"\bmelden sie mich( bitte)? ab\b",
        r"\btragen sie mich( bitte)? aus\b",
        r"\bkeine (weiteren (e-?mails?|nachrichten|mails?)|(e-?mails?|nachrichten|mails?"
        r"|newsletter) mehr)\b",
        r"\bkein interesse\b",
        r"\bnicht mehr (an)?schreiben\b",
        r"\b(schreiben|senden|schicken) sie mir (bitte )?(nichts|keine|nicht mehr)\b",
        r"\bmöchte (das|diese|die mails?|die e-?mails?|keine) nicht mehr\b",
        r"\bnicht mehr (erhalten|bekommen|kontaktier(en|t werden))\b",
        r"\bmich von (der|ihrer) liste\b",
    ),
    "fr": (
        r"\b(me )?d[ée]sabonn(er|ez)\b",
        r"\b(me )?d[ée]sinscri(re|vez)\b",
        r"\bplus d'?(e-?mails?|messages|courriels?)\b",
        r"\b(retirez|supprimez|enlevez)[- ]moi\b",
        r"\bpas int[ée]ress[ée]e?s?\b",
        r"\bne (me |m')(\w+ )?(e-?mail|écri|envoy|contact)\w* plus\b",
        r"\bne plus (me |m')?(e-?mail|écri|envoy|contact)\w*\b",
        r"\bne (veux|souhaite|voudrais) plus (recevoir|être contacté)\b",
    ),
    "es": (
        r"\bdar(me)? de baja\b",
        r"\bdenme de baja\b",
        r"\bno m[áa]s (correos|e-?mails?|mensajes)\b",
        r"\bcancelar (la |mi )?suscripci[óo]n\b",
        r"\bno (me )?interesa\b",
        r"\b(elim[ií]n|qu[ií]t|borr)(en|e|a)me\b",
        r"\bno me (env[íi]e|env[íi]en|escriba|escriban|contacte|contacten)\b",
        r"\bdesuscribir(me)?\b",
    ),
    "pt": (
        r"\bdescadastr(ar|e-me|em-me|ar-me)\b",
        r"\bn[ãa]o quero (mais )?(receber|e-?mails?|mensagens)\b",
        r"\bcancelar (a |minha )?(inscri[çc][ãa]o|assinatura)\b",
        r"\bn[ãa]o (tenho )?interess(e|ad[oa])\b",
        r"\b(remov|tir|exclu)(a|am|e|em)[- ]me\b",
        r"\bn[ãa]o me (envie|enviem|mande|mandem|escreva|escrevam|contacte)\b",
        r"\bparem de (enviar|mandar|escrever)\b",
    ),
    "it": (
        r"\bdisiscriv(ere|etemi|imi|ermi)\b",
        r"\bcancellami\b",
        r"\bcancellatemi\b",
        r"\b(rimuov|togli)(i|ete)mi\b",
        r"\bbasta (e-?mail|email|messaggi)\b",
        r"\bnon (mi )?interessa\b",
        r"\bnon (mi )?(scriva|scrivete|mandate|inviate|contattate)\b",
        r"\bnon voglio (pi[ùu] )?ricevere\b",
    ),
    "nl": (
        r"\b(afmelden|uitschrijven|afmelding)\b",
        r"\bmeld me( graag)? af\b",
        r"\bschrijf me( graag)? uit\b",
        r"\bgeen (e-?mails?|berichten|mails?|nieuwsbrieven) meer\b",
        r"\bgeen interesse\b",
        r"\bniet meer (mailen|e-?mailen|sturen|benaderen|ontvangen)\b",
        r"\bhaal me van\b",
    ),
    "sv": (
        r"\b(avregistrera|avsluta prenumerationen?|avprenumerera)\b",
        r"\binga (fler |mer )?(mejl|e-?post|mail|utskick)\b",
        r"\bta bort mig\b",
        r"\binte intresserad\b",
        r"\bvill inte (ha|få) (fler|mer|era|dessa)\b",
        r"\b(sluta|slutta) (skicka|mejla|maila|skriva)\b",
        r"\bskicka inte\b",
    ),
}

# Words that turn a following phrase around ("don't", "pas", "nicht" ...), per language.
NEGATIONS: dict[str, tuple[str, ...]] = {
    "en": ("don't", "do not", "not", "never", "no need to", "didn't", "won't", "wouldn't"),
    "de": ("nicht", "kein", "keine", "nie"),
    "fr": ("pas", "jamais", "inutile de", "aucun besoin de"),
    "es": ("no", "nunca"),
    "pt": ("não", "nao", "nunca"),
    "it": ("non", "mai"),
    "nl": ("niet", "nooit", "geen"),
    "sv": ("inte", "aldrig", "ej"),
}
# Languages whose negation may follow the verb ("melde mich nicht ab" aside).
AFTER: dict[str, tuple[str, ...]] = {
    "de": ("nicht",),
    "fr": ("pas",),
    "nl": ("niet",),
    "sv": ("inte", "ej"),
}
NEGATION_WINDOW = 4  # words before the phrase
AFTER_WINDOW = 2  # words after it

# One-word answers that mean stop when they are the whole reply (three words at most).
WHOLE = frozenset(
    {"stop", "unsubscribe", "remove", "stopp", "arrêter", "arrêtez", "basta", "pare", "alto"}
)

# The footers our templates carry (templates/*.md): quoted back, never an opt-out by itself.
FOOTERS = (
    "if this isn't for you, reply \"unsubscribe\" and i won't write again.",
    'rather not get these? reply "unsubscribe" and they stop.',
    'rather not get these notes? reply "unsubscribe" and they stop.',
)
