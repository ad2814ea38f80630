"""A partner's own words in a reply, and whether they ask to stop (EMAIL.md, "Replies and
bounces"): public reply fixtures with a footer quoted under them, and a table of opt-out and
not-opt-out sentences in eight languages."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from automations.adapters.replytext import before_quote
from automations.core.optout import asks_to_stop, html_text, own_text
from automations.core.replies import Known, classify

DATA = Path(__file__).parent / "data"
ME = "alex@rivera-consulting.example"
PARTNER = "Maya <maya@goldberg.example>"
KNOWN = Known(
    partners=frozenset({"maya@goldberg.example"}),
    sent_ids={},
    unsubscribe_address=ME,
    cut=before_quote,
)
OUR_FOOTER = "If this isn't for you, reply \"unsubscribe\" and I won't write again."
NEWSLETTER = "You receive this newsletter as a partner. Unsubscribe | Manage your preferences"
STOP = "Please unsubscribe me, no more emails."


def fixtures() -> list[tuple[str, str, bool]]:
    """(name, body, is_html) of every reply fixture with a quote under it."""
    out = []
    for path in sorted((DATA / "talon").glob("*.eml")):
        msg = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(msg, EmailMessage)
        body = msg.get_body(("plain", "html"))
        assert body is not None
        out.append((path.name, str(body.get_content()), body.get_content_type() == "text/html"))
    out += [(p.name, p.read_text(), True) for p in sorted((DATA / "talon").glob("*.html"))]
    out += [
        (p.name, p.read_text(), False) for p in sorted((DATA / "mail-parser-reply").glob("*.txt"))
    ]
    return [f for f in out if _quoted(f[1], f[2])]


def _quoted(body: str, is_html: bool) -> bool:
    text = html_text(body) if is_html else body
    return len(own_text(text, before_quote)) < 0.9 * len(" ".join(text.split()))


def _in_quote(body: str, is_html: bool, line: str) -> str:
    """The reply with `line` added at the end of its quoted earlier message."""
    if is_html:
        at = body.lower().rfind("</blockquote>")
        at = at if at >= 0 else max(body.lower().rfind("</body>"), 0) or len(body)
        return f"{body[:at]}<p>{line}</p>{body[at:]}"
    lines = body.replace("\r\n", "\n").split("\n")
    quoted = [i for i, ln in enumerate(lines) if ln.lstrip().startswith(">")]
    if quoted:
        lines.insert(quoted[-1] + 1, f"> {line}")
        return "\n".join(lines)
    return f"{body.rstrip()}\n{line}\n"


def _reply(body: str, is_html: bool) -> bytes:
    msg = EmailMessage()
    msg["From"] = PARTNER
    msg["To"] = ME
    msg["Subject"] = "Re: Checking in"
    msg["Message-ID"] = "<r1@goldberg.example>"
    msg["Date"] = "Fri, 20 Nov 2026 09:30:00 +0000"
    msg.set_content(body, subtype="html" if is_html else "plain")
    return msg.as_bytes()


FIXTURES = fixtures()
RAW_QP = {"begins_with_signature.txt"}  # stored still encoded ("w= rote:")


def test_the_public_fixtures_hold_enough_quoted_replies() -> None:
    assert len(FIXTURES) >= 60


@pytest.mark.parametrize(("name", "body", "is_html"), FIXTURES, ids=[f[0] for f in FIXTURES])
def test_a_footer_quoted_under_an_ordinary_answer_is_not_an_unsubscribe(
    name: str, body: str, is_html: bool
) -> None:
    for footer in (OUR_FOOTER, NEWSLETTER):
        verdict = classify(_reply(_in_quote(body, is_html, footer), is_html), KNOWN)
        assert verdict.kind == "reply", (name, footer, verdict.detail)


@pytest.mark.parametrize(("name", "body", "is_html"), FIXTURES, ids=[f[0] for f in FIXTURES])
def test_an_opt_out_above_the_quote_is_an_unsubscribe(name: str, body: str, is_html: bool) -> None:
    quoted = _in_quote(body, is_html, NEWSLETTER)
    above = f"<p>{STOP}</p>{quoted}" if is_html else f"{STOP}\n\n{quoted}"
    assert classify(_reply(above, is_html), KNOWN).kind == "unsubscribe", name


@pytest.mark.parametrize(("name", "body", "is_html"), FIXTURES, ids=[f[0] for f in FIXTURES])
def test_an_opt_out_below_the_quote_is_an_unsubscribe(name: str, body: str, is_html: bool) -> None:
    if name in RAW_QP:
        pytest.skip("quoted-printable soft breaks left in the file: its quote lines are broken")
    quoted = _in_quote(body, is_html, NEWSLETTER)
    if is_html:
        at = quoted.lower().rfind("</blockquote>")
        if at < 0:
            pytest.skip("no quote block to write under")
        at += len("</blockquote>")
        below = f"{quoted[:at]}<p>{STOP}</p>{quoted[at:]}"
    elif any(ln.lstrip().startswith(">") for ln in quoted.splitlines()):
        lines = quoted.split("\n")  # right under the quote, above a list footer or signature
        last = max(i for i, ln in enumerate(lines) if ln.lstrip().startswith(">"))
        below = "\n".join([*lines[: last + 1], "", STOP, "", *lines[last + 1 :]])
    else:
        pytest.skip("an Outlook-style quote: what is under it is the earlier message")
    assert classify(_reply(below, is_html), KNOWN).kind == "unsubscribe", name


STOPS = {
    "en": [
        "Please unsubscribe me.",
        "I'd rather not get these.",
        "Please don't send me these anymore.",
        "Not interested, thanks.",
        "Remove me from your list please.",
        "No more emails, please.",
        "Stop emailing me.",
    ],
    "de": [
        "Bitte abmelden.",
        "Bitte keine E-Mails mehr.",
        "Kein Interesse, danke.",
        "Bitte tragen Sie mich aus.",
        "Melden Sie mich bitte ab.",
        "Ich möchte keine weiteren Mails.",
        "Bitte nehmen Sie mich von der Liste.",
        "Schreiben Sie mir bitte nicht mehr.",
    ],
    "fr": [
        "Merci de me désabonner.",
        "Désabonnez-moi s'il vous plaît.",
        "Pas intéressé, merci.",
        "Retirez-moi de votre liste.",
        "Ne m'écrivez plus.",
        "Je ne souhaite plus recevoir ces messages.",
    ],
    "es": [
        "Por favor, darme de baja.",
        "No me interesa, gracias.",
        "Elimíneme de su lista.",
        "No más correos, por favor.",
        "Quiero cancelar mi suscripción.",
        "Por favor no me envíe más correos.",
    ],
    "pt": [
        "Por favor, descadastre-me.",
        "Não tenho interesse, obrigado.",
        "Não quero mais receber estes e-mails.",
        "Remova-me da sua lista.",
        "Não me envie mais mensagens.",
        "Quero cancelar a inscrição.",
    ],
    "it": [
        "Per favore disiscrivetemi.",
        "Non mi interessa, grazie.",
        "Cancellatemi dalla lista.",
        "Rimuovetemi dalla vostra lista.",
        "Non voglio più ricevere queste email.",
        "Basta email, grazie.",
    ],
    "nl": [
        "Graag afmelden.",
        "Geen interesse, dank je.",
        "Meld me af alsjeblieft.",
        "Geen e-mails meer graag.",
        "Haal me van de lijst.",
        "Schrijf me uit.",
    ],
    "sv": [
        "Avregistrera mig, tack.",
        "Inte intresserad, tack.",
        "Ta bort mig från listan.",
        "Inga fler mejl, tack.",
        "Sluta skicka mejl till mig.",
        "Jag vill inte ha fler utskick.",
    ],
}
NOT_STOPS = {
    "en": [
        "I don't want to unsubscribe, all good!",
        "Please don't unsubscribe me, I like these.",
        "Thanks, let's talk next week.",
        "No need to remove me, I'm still interested.",
        "Stop by the office on Tuesday.",
        "Ignore my last note about unsubscribing, keep them coming.",
    ],
    "de": [
        "Bitte nicht abmelden, ich lese das gern.",
        "Danke, ich habe es nicht erhalten, bitte nochmal schicken.",
        "Gerne, nächste Woche passt.",
        "Ich möchte mich nicht abmelden.",
        "Keine Sorge, alles gut.",
        "Melden Sie mich nicht ab, danke.",
    ],
    "fr": [
        "Ne me désabonnez pas, merci.",
        "Je ne veux pas me désabonner.",
        "Merci, parlons-en mardi.",
        "Inutile de me désabonner, c'est utile.",
        "Vous ne m'avez pas envoyé le devis.",
        "Avec plaisir, à bientôt.",
    ],
    "es": [
        "No quiero darme de baja.",
        "Gracias, hablamos el martes.",
        "Nunca me des de baja, me encanta.",
        "Me interesa mucho, llamemos.",
        "Perfecto, nos vemos pronto.",
        "No, no quiero cancelar mi suscripción.",
    ],
    "pt": [
        "Não quero me descadastrar.",
        "Obrigado, falamos na terça.",
        "Tenho muito interesse, vamos conversar.",
        "Nunca me descadastre, adoro.",
        "Perfeito, até breve.",
        "Recebi, obrigado.",
    ],
    "it": [
        "Non voglio disiscrivermi.",
        "Grazie, sentiamoci martedì.",
        "Mi interessa molto.",
        "Non cancellatemi, mi piace.",
        "Perfetto, a presto.",
        "Non ho ricevuto il file, lo rimandi?",
    ],
    "nl": [
        "Niet afmelden alsjeblieft.",
        "Ik wil me niet afmelden.",
        "Bedankt, tot dinsdag.",
        "Ik kon je niet mailen gisteren.",
        "Prima, we spreken elkaar.",
        "Ik heb veel interesse.",
    ],
    "sv": [
        "Avregistrera mig inte.",
        "Jag vill inte avregistrera mig.",
        "Tack, vi hörs på tisdag.",
        "Jag är väldigt intresserad.",
        "Perfekt, vi ses snart.",
        "Ta inte bort mig, tack.",
    ],
}


@pytest.mark.parametrize(
    ("language", "sentence"),
    [(lang, s) for lang, sentences in STOPS.items() for s in sentences],
)
def test_an_opt_out_in_any_of_eight_languages_asks_to_stop(language: str, sentence: str) -> None:
    assert asks_to_stop(sentence), (language, sentence)


@pytest.mark.parametrize(
    ("language", "sentence"),
    [(lang, s) for lang, sentences in NOT_STOPS.items() for s in sentences],
)
def test_a_negated_or_ordinary_sentence_does_not_ask_to_stop(language: str, sentence: str) -> None:
    assert not asks_to_stop(sentence), (language, sentence)


@pytest.mark.parametrize("path", sorted(Path(__file__).parent.parent.glob("templates/*.md")))
def test_the_footer_of_every_template_is_known_and_the_footers_own_words_ask_to_stop(
    path: Path,
) -> None:
    for line in path.read_text().splitlines():
        if "unsubscribe" in line.lower() and "reply" in line.lower():
            quoted_back = f"Thanks, let's talk next week.\n\n{line}"
            assert not asks_to_stop(quoted_back), line
    assert asks_to_stop("I'd rather not get these, thanks.")


def test_an_html_only_reply_with_an_outlook_from_block_keeps_the_quote_out() -> None:
    html = (
        "<html><body><p>Thanks, let's talk next week.</p><hr>"
        "<p><b>From:</b> Alex Rivera<br><b>Sent:</b> Monday<br><b>Subject:</b> Checking in</p>"
        f"<p>Hi Maya,</p><p>{NEWSLETTER}</p></body></html>"
    )
    verdict = classify(_reply(html, True), KNOWN)
    assert verdict.kind == "reply"
