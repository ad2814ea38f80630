"""What an email says and is, before it is rendered: the letterhead, the draft, a partner's
facts, an owner's emails, and the drafts of a run (ARCHITECTURE.md, core/mail)."""
