"""Review before sending (EMAIL.md, "Review before sending"), in one place: the step inside
a sending run (`step`, `run`, `approved`), the `partners review` command's job (`command`),
the Review tab's decision cells (`cells`), new proposals and their review emails
(`proposing`), the decisions that move proposals (`decisions`) and approval by reply
(`reply`). The pure rules are in `core.review`; the proposals are kept by the journal."""
